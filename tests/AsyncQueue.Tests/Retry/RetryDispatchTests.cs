using System.Collections.Concurrent;
using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using AsyncQueue.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

using AsyncQueue.Tests.Storage;

namespace AsyncQueue.Tests.Retry;

public sealed class RetryDispatchTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public sealed record Flaky(int FailTimes, bool Permanent = false);

    /// <summary>Fails its first <see cref="Flaky.FailTimes"/> calls, recording each attempt and when it started by the queue's clock.</summary>
    public sealed class FlakyHandler(TimeProvider time, ConcurrentQueue<(int Attempt, DateTimeOffset At)> attempts) : IJobHandler<Flaky>
    {
        public Task HandleAsync(Flaky job, JobContext context, CancellationToken cancellationToken)
        {
            attempts.Enqueue((context.Attempt, time.GetUtcNow()));
            if (job.Permanent)
            {
                throw new PermanentJobException("this address does not exist");
            }

            return attempts.Count <= job.FailTimes ? throw new InvalidOperationException($"transient failure {attempts.Count}") : Task.CompletedTask;
        }
    }

    private static async Task<(TestHost Host, FakeTimeProvider Time, ConcurrentQueue<(int Attempt, DateTimeOffset At)> Attempts)> StartAsync(Action<QueueOptions> configure, Action<IJobQueueBuilder>? more = null)
    {
        var time = new FakeTimeProvider(Start);
        var attempts = new ConcurrentQueue<(int, DateTimeOffset)>();
        var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(attempts);
            queue.AddHandler<Flaky, FlakyHandler>(configure);
            more?.Invoke(queue);
        });
        return (host, time, attempts);
    }

    [Fact]
    public async Task Failure_ThreeRetriesWithExponentialBackoff_MakesFourAttemptsAtExpectedTimesThenDeadLetters()
    {
        var policy = new RetryPolicy { MaxRetries = 3, Delay = TimeSpan.FromSeconds(2), Jitter = 0.25, Random = new Random(1234) };
        var (host, time, attempts) = await StartAsync(q =>
        {
            q.Retry = policy;
            q.DeadLetterQueue = "failed-flaky";
        });
        await using var _ = host;
        var store = host.Services.GetRequiredService<IJobStore>();
        var jitter = new Random(1234);

        var job = await host.Queue.EnqueueAsync(new Flaky(FailTimes: int.MaxValue));
        var expected = new List<DateTimeOffset> { Start };
        for (var retry = 1; retry <= 3; retry++)
        {
            await Poll.UntilAsync(() => attempts.Count == retry && store.CountScheduled(nameof(Flaky)) == 1, $"attempt {retry} failed and was rescheduled");
            var backoff = TimeSpan.FromSeconds(2 * Math.Pow(2, retry - 1));
            var delay = backoff + (backoff * (0.25 * jitter.NextDouble()));

            // Not a tick early: just before the due time the job is still waiting for its timer.
            time.Advance(delay - TimeSpan.FromTicks(1));
            Assert.Equal(1, store.CountScheduled(nameof(Flaky)));
            time.Advance(TimeSpan.FromTicks(1));
            expected.Add(time.GetUtcNow());
        }

        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        await Poll.UntilAsync(() => deadLetters.CountAsync("failed-flaky").AsTask().Result == 1, "the job was dead-lettered");

        Assert.Equal([1, 2, 3, 4], attempts.Select(a => a.Attempt));
        Assert.Equal(expected, attempts.Select(a => a.At));
        var entry = Assert.Single(await deadLetters.ListAsync("failed-flaky"));
        Assert.Equal(job.JobId, entry.JobId);
        Assert.Equal(4, entry.Attempts);
        Assert.Equal(["transient failure 1", "transient failure 2", "transient failure 3", "transient failure 4"], entry.Errors.Select(e => e.Message));
        Assert.Equal(expected, entry.Errors.Select(e => e.At));
        Assert.All(entry.Errors, e => Assert.Equal(typeof(InvalidOperationException).FullName, e.ExceptionType));
        Assert.All(entry.Errors, e => Assert.Contains(nameof(FlakyHandler), e.StackTrace, StringComparison.Ordinal));
        Assert.Equal(new Flaky(int.MaxValue), entry.Job);
    }

    [Fact]
    public async Task Failure_Permanent_DeadLettersAfterOneAttempt()
    {
        var (host, _, attempts) = await StartAsync(q => q.Retry = RetryPolicy.Exponential(5, TimeSpan.FromSeconds(1)));
        await using var _ = host;
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        await host.Queue.EnqueueAsync(new Flaky(0, Permanent: true));
        await Poll.UntilAsync(() => deadLetters.CountAsync("Flaky-dead-letter").AsTask().Result == 1, "the job was dead-lettered");

        Assert.Single(attempts);
        var entry = Assert.Single(await deadLetters.ListAsync("Flaky-dead-letter"));
        Assert.Equal("this address does not exist", Assert.Single(entry.Errors).Message);
    }

    [Fact]
    public async Task Requeue_FromDeadLetterQueue_RunsAgainAndSucceeds()
    {
        var (host, _, attempts) = await StartAsync(q => q.Retry = RetryPolicy.None);
        await using var _ = host;
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        var job = await host.Queue.EnqueueAsync(new Flaky(FailTimes: 1));
        await Poll.UntilAsync(() => deadLetters.CountAsync("Flaky-dead-letter").AsTask().Result == 1, "the job was dead-lettered");
        Assert.True(await deadLetters.RequeueAsync(job.JobId));
        await Poll.UntilAsync(() => attempts.Count == 2, "the requeued job ran");

        // A fresh attempt count: the handler saw attempt 1 again, and this time it succeeded.
        Assert.Equal([1, 1], attempts.Select(a => a.Attempt));
        Assert.Equal(0, await deadLetters.CountAsync("Flaky-dead-letter"));
    }

    public sealed record Reporting(int FailTimes);

    /// <summary>Fails its first <see cref="Reporting.FailTimes"/> calls; then succeeds and reports a result, as the WebUpload sample's handler does.</summary>
    public sealed class ReportingHandler(ConcurrentQueue<(int Attempt, DateTimeOffset At)> attempts) : IJobHandler<Reporting>
    {
        public Task HandleAsync(Reporting job, JobContext context, CancellationToken cancellationToken)
        {
            attempts.Enqueue((context.Attempt, default));
            if (attempts.Count <= job.FailTimes)
            {
                throw new InvalidOperationException($"transient failure {attempts.Count}");
            }

            context.SetResult($"done in attempt {context.Attempt}");
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Requeue_HandlerSetsAResult_SucceedsWithIt()
    {
        // Attempt 1 of the job's first life ended; the requeued job's attempt 1 is a new one and may report a result.
        // MaxAttempts makes the in-memory store keep the job's own record (a plain job runs on a consumer's reused one),
        // which goes to the dead-letter queue and back, as a job enqueued under a trace does.
        var (host, _, attempts) = await StartAsync(q => q.Retry = RetryPolicy.None, builder => builder.AddHandler<Reporting, ReportingHandler>(q => q.FinishedJobCapacity = 100));
        await using var _ = host;
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();

        var job = await host.Queue.EnqueueAsync(new Reporting(FailTimes: 1), new EnqueueOptions { MaxAttempts = 1 });
        await Poll.UntilAsync(async () => (await monitor.GetJobAsync(job.JobId))?.State == JobState.DeadLettered, "the job was dead-lettered");
        Assert.True(await deadLetters.RequeueAsync(job.JobId));
        await Poll.UntilAsync(async () => (await monitor.GetJobAsync(job.JobId))?.State is JobState.Succeeded or JobState.DeadLettered, "the requeued job finished");

        var info = (await monitor.GetJobAsync(job.JobId))!;
        Assert.Equal(JobState.Succeeded, info.State);
        Assert.Equal("done in attempt 1", info.Result);
        Assert.Equal([1, 1], attempts.Select(a => a.Attempt));
    }

    [Fact]
    public async Task RetryPolicy_PerJobTypeOverride_WinsOverQueueDefault()
    {
        var (host, _, attempts) = await StartAsync(
            q => q.Retry = RetryPolicy.Fixed(5, TimeSpan.Zero),
            builder => builder.ConfigureJob<Flaky>(j => j.Retry = RetryPolicy.Fixed(1, TimeSpan.Zero)));
        await using var _ = host;
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        await host.Queue.EnqueueAsync(new Flaky(FailTimes: int.MaxValue));
        await Poll.UntilAsync(() => deadLetters.CountAsync("Flaky-dead-letter").AsTask().Result == 1, "the job was dead-lettered");

        Assert.Equal([1, 2], attempts.Select(a => a.Attempt));
    }

    [Fact]
    public async Task MaxAttempts_PerEnqueue_LimitsAttempts()
    {
        var (host, _, attempts) = await StartAsync(q => q.Retry = RetryPolicy.Fixed(5, TimeSpan.Zero));
        await using var _ = host;
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        await host.Queue.EnqueueAsync(new Flaky(FailTimes: int.MaxValue), new EnqueueOptions { MaxAttempts = 3 });
        await Poll.UntilAsync(() => deadLetters.CountAsync("Flaky-dead-letter").AsTask().Result == 1, "the job was dead-lettered");

        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
    }

    public sealed class Alarm(TaskCompletionSource<DeadLetterEntry> seen) : IDeadLetterObserver
    {
        public ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
        {
            seen.TrySetResult(entry);
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task DeadLetter_RegisteredObserver_IsToldWithTheEntry()
    {
        var seen = new TaskCompletionSource<DeadLetterEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(new ConcurrentQueue<(int, DateTimeOffset)>());
            services.AddSingleton(seen);
            services.AddSingleton<IDeadLetterObserver, Alarm>();
            queue.AddHandler<Flaky, FlakyHandler>(q => q.DeadLetterQueue = "failed-flaky");
        });

        var job = await host.Queue.EnqueueAsync(new Flaky(0, Permanent: true));
        var entry = await seen.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(job.JobId, entry.JobId);
        Assert.Equal("failed-flaky", entry.DeadLetterQueue);
        Assert.Equal(Start, entry.DeadLetteredAt);
    }
}
