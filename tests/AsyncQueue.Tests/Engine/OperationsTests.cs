using System.Diagnostics.Metrics;
using AsyncQueue.Engine;
using AsyncQueue.Monitoring;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Tests.Engine;

/// <summary>
/// The in-process parts of the operations API that the conformance suite does not reach: the finished-jobs ring's
/// bounds, the result's and priority's checks, and a cancelled handler that throws something else on its way out.
/// </summary>
public sealed class OperationsTests
{
    public sealed record Chore(int N, bool WaitForCancel = false);

    public sealed class ChoreHandler(TaskCompletionSource started) : IJobHandler<Chore>
    {
        public async Task HandleAsync(Chore job, JobContext context, CancellationToken cancellationToken)
        {
            context.SetResult($"chore {job.N}");
            if (job.WaitForCancel)
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Not an OperationCanceledException: the cancel must still win over the failure.
                    throw new InvalidOperationException("cleanup failed after the cancel");
                }
            }
        }
    }

    public sealed record Report(int N);

    /// <summary>Attempt 1 reports a result, then fails; attempt 2 reports none and succeeds. Keeps every context it is given.</summary>
    public sealed class ReportHandler(List<JobContext> contexts) : IJobHandler<Report>
    {
        public Task HandleAsync(Report job, JobContext context, CancellationToken cancellationToken)
        {
            lock (contexts)
            {
                contexts.Add(context);
            }

            if (job.N == 1 && context.Attempt == 1)
            {
                context.SetResult("half-written.tmp");
                throw new IOException("The disk filled up after the result was reported.");
            }

            if (job.N == 2)
            {
                context.SetResult("on time");
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task SetResult_OfAFailedAttempt_DoesNotOutliveItAndLateCallsAreRefused()
    {
        var contexts = new List<JobContext>();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(contexts);
            queue.AddHandler<Report, ReportHandler>(q =>
            {
                q.Retry = AsyncQueue.Retry.RetryPolicy.Fixed(1, TimeSpan.Zero);
                q.FinishedJobCapacity = 100;
            });
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();

        var failedFirst = (await host.Queue.EnqueueAsync(new Report(1))).JobId;
        var keyed = (await host.Queue.EnqueueAsync(new Report(2), new EnqueueOptions { IdempotencyKey = "late-result" })).JobId;
        await monitor.WaitUntilEmptyAsync().WaitAsync(TimeSpan.FromMinutes(1));

        var retried = await monitor.GetJobAsync(failedFirst);
        Assert.Equal(JobState.Succeeded, retried!.State);
        Assert.Equal(2, retried.Attempt);
        Assert.Null(retried.Result);

        // A context kept past its attempt: a record that is not reused still has the same id and attempt.
        var kept = contexts.Single(c => c.JobId == keyed);
        Assert.Throws<InvalidOperationException>(() => kept.SetResult("late"));
        Assert.Equal("on time", (await monitor.GetJobAsync(keyed))!.Result);
    }

    [Fact]
    public async Task WaitUntilEmpty_WithARetryScheduled_WaitsForTheRetryWhereWaitForIdleDoesNot()
    {
        var contexts = new List<JobContext>();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(contexts);
            services.AddSingleton<TimeProvider>(time);
            queue.AddHandler<Report, ReportHandler>(q =>
            {
                q.Retry = AsyncQueue.Retry.RetryPolicy.Fixed(1, TimeSpan.FromMinutes(1));
                q.FinishedJobCapacity = 100;
            });
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();
        var id = (await host.Queue.EnqueueAsync(new Report(1))).JobId;

        await monitor.WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(1));
        var empty = monitor.WaitUntilEmptyAsync();
        Assert.Equal(JobState.Retrying, (await monitor.GetJobAsync(id))!.State);
        Assert.False(empty.IsCompleted);

        time.Advance(TimeSpan.FromMinutes(1));
        await empty.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(JobState.Succeeded, (await monitor.GetJobAsync(id))!.State);
    }

    [Fact]
    public void FinishedJobs_PastCapacity_EvictsTheOldestAndSaysSo()
    {
        var ring = new FinishedJobs(capacity: 2, TimeSpan.FromHours(1));
        var jobs = Enumerable.Range(0, 3).Select(i => new JobRecord(JobId.NewId(), "kind", "q", new Chore(i), DateTimeOffset.UnixEpoch)).ToArray();
        var now = DateTimeOffset.UnixEpoch.UtcTicks;

        Assert.False(ring.Record(jobs[0], JobState.Succeeded, now));
        Assert.False(ring.Record(jobs[1], JobState.Cancelled, now));
        Assert.True(ring.Record(jobs[2], JobState.Succeeded, now));

        Assert.Null(ring.Find(jobs[0].Id, "q", now));
        Assert.Equal(JobState.Cancelled, ring.Find(jobs[1].Id, "q", now)!.State);
        Assert.Equal(JobState.Succeeded, ring.Find(jobs[2].Id, "q", now)!.State);
    }

    [Fact]
    public void FinishedJobs_PastRetention_FindsNothingAndEvictsNothingCounted()
    {
        var ring = new FinishedJobs(capacity: 1, TimeSpan.FromMinutes(1));
        var first = new JobRecord(JobId.NewId(), "kind", "q", new Chore(1), DateTimeOffset.UnixEpoch);
        var second = new JobRecord(JobId.NewId(), "kind", "q", new Chore(2), DateTimeOffset.UnixEpoch);
        var now = DateTimeOffset.UnixEpoch.UtcTicks;
        ring.Record(first, JobState.Succeeded, now);

        var later = now + TimeSpan.FromMinutes(2).Ticks;
        Assert.Null(ring.Find(first.Id, "q", later));
        Assert.False(ring.Record(second, JobState.Succeeded, later));
    }

    [Fact]
    public async Task FinishedJobCapacity_Reached_EvictionIsCountedAndTheOldestStatusIsGone()
    {
        long evicted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AsyncQueue" && instrument.Name == "asyncqueue.job.status.evicted")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref evicted, value));
        listener.Start();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(new TaskCompletionSource());
            queue.AddHandler<Chore, ChoreHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.FinishedJobCapacity = 2;
            });
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();

        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await host.Queue.EnqueueAsync(new Chore(i))).JobId);
            await monitor.WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }

        Assert.Null(await monitor.GetJobAsync(ids[0]));
        Assert.Equal("chore 2", (await monitor.GetJobAsync(ids[2]))!.Result);
        Assert.Equal(1, Interlocked.Read(ref evicted));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public async Task FinishedJobCapacity_NotSetOrZero_InMemoryKeepsNoFinishedStatusButStillTracksTheRest(int? capacity)
    {
        var started = new TaskCompletionSource();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(started);
            queue.AddHandler<Chore, ChoreHandler>("chores", q => q.FinishedJobCapacity = capacity);
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();
        Assert.Equal(0, monitor.Queues.Single().FinishedJobCapacity);

        var running = (await host.Queue.EnqueueAsync(new Chore(1, WaitForCancel: true))).JobId;
        await started.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await host.Queue.PauseAsync("chores");
        var waiting = (await host.Queue.EnqueueAsync(new Chore(2))).JobId;
        Assert.Equal(JobState.Running, (await monitor.GetJobAsync(running))!.State);
        Assert.Equal(JobState.Waiting, (await monitor.GetJobAsync(waiting))!.State);

        Assert.Equal(CancelJobResult.CancellationRequested, await host.Queue.CancelAsync(running));
        await host.Queue.ResumeAsync("chores");
        await monitor.WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Null(await monitor.GetJobAsync(running));
        Assert.Null(await monitor.GetJobAsync(waiting));
    }

    [Fact]
    public async Task Cancel_HandlerThatThrowsOtherExceptionOnCancel_EndsCancelledNotRetried()
    {
        var started = new TaskCompletionSource();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(started);
            queue.AddHandler<Chore, ChoreHandler>(q =>
            {
                q.Retry = AsyncQueue.Retry.RetryPolicy.Fixed(3, TimeSpan.Zero);
                q.FinishedJobCapacity = 100;
            });
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();
        var id = (await host.Queue.EnqueueAsync(new Chore(1, WaitForCancel: true))).JobId;
        await started.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(CancelJobResult.CancellationRequested, await host.Queue.CancelAsync(id));
        await monitor.WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(1));

        var info = await monitor.GetJobAsync(id);
        Assert.Equal(JobState.Cancelled, info!.State);
        Assert.Equal(1, info.Attempt);
    }

    [Fact]
    public async Task GetJob_RightAfterCancellingScheduledJob_NeverReadsWaitingOrRunning()
    {
        // The cancel moves the job to its queue for a worker to drop: a status read meanwhile still finds it there, or
        // in the worker's hands, and must say Cancelled all the same (a race the dashboard's tests found).
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(new TaskCompletionSource());
            queue.AddHandler<Chore, ChoreHandler>("chores", q =>
            {
                q.MaxConcurrency = 2;
                q.FinishedJobCapacity = 10_000;
            });
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();
        var seen = new List<JobState>();
        for (var i = 0; i < 3_000; i++)
        {
            var id = (await host.Queue.EnqueueAsync(new Chore(i), new EnqueueOptions { Delay = TimeSpan.FromHours(1) })).JobId;
            Assert.Equal(CancelJobResult.Cancelled, await host.Queue.CancelAsync(id));
            for (var read = 0; read < 10; read++)
            {
                seen.Add((await monitor.GetJobAsync(id))!.State);
            }
        }

        Assert.All(seen, state => Assert.Equal(JobState.Cancelled, state));
    }

    [Fact]
    public async Task Cancel_WaitingJobTwice_SecondSaysAlreadyFinished()
    {
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(new TaskCompletionSource());
            queue.AddHandler<Chore, ChoreHandler>("chores", q => q.FinishedJobCapacity = 100);
        });
        await host.Queue.PauseAsync("chores");
        var id = (await host.Queue.EnqueueAsync(new Chore(1))).JobId;

        Assert.Equal(CancelJobResult.Cancelled, await host.Queue.CancelAsync(id));
        Assert.Equal(CancelJobResult.AlreadyFinished, await host.Queue.CancelAsync(id));
        await host.Queue.ResumeAsync("chores");
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();
        await monitor.WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(JobState.Cancelled, (await monitor.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task PauseAndWaitForIdle_UnknownQueue_ThrowQueueNotConfigured()
    {
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(new TaskCompletionSource());
            queue.AddHandler<Chore, ChoreHandler>();
        });

        await Assert.ThrowsAsync<QueueNotConfiguredException>(() => host.Queue.PauseAsync("nope").AsTask());
        await Assert.ThrowsAsync<QueueNotConfiguredException>(() => host.Services.GetRequiredService<IJobQueueMonitor>().WaitForIdleAsync("nope"));
    }

    [Fact]
    public void SetResult_TooLongOrAfterTheAttempt_Throws()
    {
        var record = new JobRecord(JobId.NewId(), "kind", "q", new Chore(1), DateTimeOffset.UnixEpoch) { Attempt = 1 };
        var context = new JobContext(record, 1);

        var tooLong = Assert.Throws<ArgumentException>(() => context.SetResult(new string('x', JobContext.MaxResultLength + 1)));
        Assert.Contains("at most 16384 characters", tooLong.Message, StringComparison.Ordinal);
        context.SetResult("ok");
        Assert.Equal("ok", record.Result);

        record.Attempt = 2;
        Assert.Throws<InvalidOperationException>(() => context.SetResult("late"));
        Assert.Throws<InvalidOperationException>(() => default(JobContext).SetResult("made by hand"));
    }

    [Fact]
    public void Priority_OutOfRange_IsRefusedWhenSet()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new EnqueueOptions { Priority = (JobPriority)7 });

        Assert.Equal("Priority", error.ParamName);
    }

    [Fact]
    public async Task FinishedJobOptions_Negative_FailTheStartNamingQueueAndProperty()
    {
        var services = new ServiceCollection();
        services.AddJobQueue().AddHandler<Chore, ChoreHandler>("chores", q =>
        {
            q.FinishedJobRetention = TimeSpan.FromSeconds(-1);
            q.FinishedJobCapacity = -1;
        });
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<QueueOptions>>().Get("chores"));

        Assert.Contains("Queue 'chores': QueueOptions.FinishedJobRetention must not be negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("Queue 'chores': QueueOptions.FinishedJobCapacity must not be negative", error.Message, StringComparison.Ordinal);
    }
}
