using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AsyncQueue.Tests.Hosting;

public sealed class ShutdownTests
{
    public sealed record Slow(int Number);

    public sealed class Gate
    {
        public Countdown Started { get; } = new(2);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Countdown Finished { get; } = new(2);

        private int _cancelled;

        public int Cancelled => Volatile.Read(ref _cancelled);

        public void OnCancelled() => Interlocked.Increment(ref _cancelled);
    }

    /// <summary>Waits for the test to release it, ignoring nothing: it honours its token.</summary>
    public sealed class GatedHandler(Gate gate) : IJobHandler<Slow>
    {
        public async Task HandleAsync(Slow job, JobContext context, CancellationToken cancellationToken)
        {
            gate.Started.Signal();
            try
            {
                await gate.Release.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                gate.OnCancelled();
                throw;
            }
            finally
            {
                gate.Finished.Signal();
            }
        }
    }

    [Fact]
    public async Task StopAsync_JobsInFlight_LetsThemFinishAndRefusesNewJobs()
    {
        var gate = new Gate();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(gate);
            queue.AddHandler<Slow, GatedHandler>(q => q.MaxConcurrency = 2);
        });
        await host.Queue.EnqueueBatchAsync([new Slow(1), new Slow(2)]);
        await gate.Started.WaitAsync();

        var stopping = host.StopAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAsync<JobQueueStoppedException>(() => host.Queue.EnqueueAsync(new Slow(3)).AsTask());
        Assert.False(stopping.IsCompleted);

        gate.Release.SetResult();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));

        await gate.Finished.WaitAsync();
        Assert.Equal(0, gate.Cancelled);
        Assert.Contains("accepts no new jobs", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_InMemoryJobsNeverStarted_LogsWaitingAndScheduledOnesAsLost()
    {
        var gate = new Gate();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddLogging(logging => logging.AddFakeLogging());
            services.AddSingleton(gate);
            queue.AddHandler<Slow, GatedHandler>(q => q.MaxConcurrency = 1);
        });

        // One worker: the first job holds it, two wait behind it, and one is due in an hour.
        await host.Queue.EnqueueBatchAsync([new Slow(1), new Slow(2), new Slow(3)]);
        await host.Queue.EnqueueAsync(new Slow(4), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        await Poll.UntilAsync(() => gate.Started.Remaining == 1, "the first job started");

        // Stop requests the workers' stop before it first yields: released after it, the worker takes no other job.
        var stopping = host.StopAsync(CancellationToken.None);
        gate.Release.SetResult();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));

        var logs = host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.Contains("held 2 accepted job(s)", Assert.Single(logs, log => log.Id.Id == 8).Message, StringComparison.Ordinal);
        Assert.Contains("held 1 accepted job(s) scheduled for later", Assert.Single(logs, log => log.Id.Id == 15).Message, StringComparison.Ordinal);
        Assert.Contains("3 accepted job(s) were left to run later or lost", Assert.Single(logs, log => log.Id.Id == 3).Message, StringComparison.Ordinal);
        Assert.Contains("0 job(s) were still running", logs.Single(log => log.Id.Id == 3).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_ShutdownTimeoutElapses_CancelsRunningJobsTokens()
    {
        var gate = new Gate();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(gate);
            queue.AddHandler<Slow, GatedHandler>(q => q.MaxConcurrency = 2);
        });
        await host.Queue.EnqueueBatchAsync([new Slow(1), new Slow(2)]);
        await gate.Started.WaitAsync();

        // The host cancels this token when its shutdown timeout elapses; here the test plays the host.
        using var shutdownTimeout = new CancellationTokenSource();
        var stopping = host.StopAsync(shutdownTimeout.Token);
        await shutdownTimeout.CancelAsync();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));

        await gate.Finished.WaitAsync();
        Assert.Equal(2, gate.Cancelled);
    }
}
