using System.Collections.Concurrent;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Engine;

public sealed class TimeoutTests
{
    public sealed record Slow(bool IgnoresToken);

    public sealed class Trace
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public TaskCompletionSource FirstAttemptStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseIgnorer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Countdown Succeeded { get; } = new(1);
    }

    /// <summary>Hangs on the first attempt (honouring its token, or not), then succeeds on the second.</summary>
    public sealed class SlowHandler(Trace trace) : IJobHandler<Slow>
    {
        public async Task HandleAsync(Slow job, JobContext context, CancellationToken cancellationToken)
        {
            if (context.Attempt > 1)
            {
                trace.Events.Enqueue($"attempt {context.Attempt} succeeded");
                trace.Succeeded.Signal();
                return;
            }

            trace.FirstAttemptStarted.SetResult();
            if (job.IgnoresToken)
            {
                await trace.ReleaseIgnorer.Task;
                trace.Events.Enqueue("ignorer finally returned");
                return;
            }

            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                trace.Events.Enqueue("attempt 1 token cancelled");
                throw;
            }
        }
    }

    private static Task<TestHost> StartAsync(FakeTimeProvider time, Trace trace) =>
        TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(trace);
            queue.AddHandler<Slow, SlowHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Timeout = TimeSpan.FromSeconds(10);
                q.AbandonAfter = TimeSpan.FromSeconds(5);
                q.Retry = RetryPolicy.Fixed(2, TimeSpan.Zero);
            });
        });

    [Fact]
    public async Task Handler_TimesOut_TokenIsCancelledAndAttemptRetried()
    {
        var time = new FakeTimeProvider();
        var trace = new Trace();
        await using var host = await StartAsync(time, trace);

        await host.Queue.EnqueueAsync(new Slow(IgnoresToken: false));
        await trace.FirstAttemptStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromSeconds(10));
        await trace.Succeeded.WaitAsync();

        Assert.Equal(["attempt 1 token cancelled", "attempt 2 succeeded"], trace.Events);
    }

    [Fact]
    public async Task Handler_IgnoresCancelledToken_IsAbandonedAndAttemptRetried()
    {
        var time = new FakeTimeProvider();
        var trace = new Trace();
        await using var host = await StartAsync(time, trace);

        await host.Queue.EnqueueAsync(new Slow(IgnoresToken: true));
        await trace.FirstAttemptStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(5));

        // The only worker was freed from the hung handler: the retry ran while the first attempt still hangs.
        await trace.Succeeded.WaitAsync();
        Assert.Equal(["attempt 2 succeeded"], trace.Events);
        trace.ReleaseIgnorer.SetResult();
    }

    [Fact]
    public async Task HostStart_NonPositiveTimeout_FailsNamingQueueAndProperty()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestHost.StartAsync((services, queue) =>
            {
                services.AddSingleton(new Trace());
                queue.AddHandler<Slow, SlowHandler>(q => q.Timeout = TimeSpan.Zero);
            }));

        Assert.Contains("Queue 'Slow': QueueOptions.Timeout must be more than zero", error.Message, StringComparison.Ordinal);
    }
}
