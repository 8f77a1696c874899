using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Monitoring;

/// <summary>The public read-only view: each queue's settings, and its jobs by state.</summary>
public sealed class JobQueueMonitorTests
{
    [Fact]
    public async Task GetStatusAsync_JobsInEveryState_CountsWaitingScheduledRunningAndDeadLettered()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var started = new SemaphoreSlim(0);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(gate);
            services.AddSingleton(started);
            queue.AddHandler<Chore, ChoreHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Retry = RetryPolicy.None;
                q.DeadLetterQueue = "failed-chores";
                q.Capacity = 100;
            });
        });
        var monitor = host.Services.GetRequiredService<IJobQueueMonitor>();

        await host.Queue.EnqueueAsync(new Chore(Fail: true));
        await Poll.UntilAsync(async () => (await monitor.GetStatusAsync(nameof(Chore))).DeadLettered == 1, "the failing job was dead-lettered");
        await host.Queue.EnqueueAsync(new Chore(Fail: false));
        Assert.True(await started.WaitAsync(TimeSpan.FromMinutes(1)), "the worker started the gated job");
        await host.Queue.EnqueueBatchAsync([new Chore(false), new Chore(false)]);
        await host.Queue.EnqueueAsync(new Chore(false), new EnqueueOptions { Delay = TimeSpan.FromMinutes(5) });

        var status = await monitor.GetStatusAsync(nameof(Chore));
        gate.SetResult();

        Assert.Equal(new QueueStatus(nameof(Chore), Waiting: 2, Scheduled: 1, Running: 1, "failed-chores", DeadLettered: 1, Paused: false), status);
        var info = Assert.Single(monitor.Queues);
        Assert.Equal(nameof(Chore), info.Name);
        Assert.Equal(1, info.MaxConcurrency);
        Assert.Equal(100, info.Capacity);
        Assert.Equal("failed-chores", info.DeadLetterQueue);
        Assert.True(monitor.WorkersRunning);
        await Assert.ThrowsAsync<QueueNotConfiguredException>(() => monitor.GetStatusAsync("no-such-queue").AsTask());
    }

    public sealed record Chore(bool Fail);

    public sealed class ChoreHandler(TaskCompletionSource gate, SemaphoreSlim started) : IJobHandler<Chore>
    {
        public async Task HandleAsync(Chore job, JobContext context, CancellationToken cancellationToken)
        {
            if (job.Fail)
            {
                throw new InvalidOperationException("this chore fails");
            }

            started.Release();
            await gate.Task;
        }
    }
}
