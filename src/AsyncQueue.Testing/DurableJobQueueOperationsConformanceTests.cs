using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The operations of a durable store as every process sharing it must see them: a cancel reaches the process that runs
/// the job, a pause holds in every process and across restarts. Each "process" is a separate job queue with its own
/// workers and store instance on the same storage.
/// </summary>
public abstract class DurableJobQueueOperationsConformanceTests : JobQueueOperationsConformanceTests
{
    /// <summary>Gets how far to move the clock between two looks so that the store's lease heartbeat runs: its heartbeat interval or less.</summary>
    protected abstract TimeSpan HeartbeatStep { get; }

    /// <summary>
    /// Waits for <paramref name="task"/> while moving the clock by <paramref name="step"/> between looks: another
    /// process learns of a job enqueued elsewhere at its poll, which runs on the fake clock.
    /// </summary>
    /// <param name="task">What to wait for.</param>
    /// <param name="step">How far to move the clock between looks.</param>
    /// <returns>A task that completes when <paramref name="task"/> did, or fails after <see cref="JobQueueOperationsConformanceTests.Guard"/>.</returns>
    protected async Task WhileAdvancingAsync(Task task, TimeSpan step)
    {
        ArgumentNullException.ThrowIfNull(task);
        using var guard = new CancellationTokenSource(Guard);
        while (!task.IsCompleted)
        {
            guard.Token.ThrowIfCancellationRequested();
            Time.Advance(step);
            await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None));
        }

        await task;
    }

    /// <summary>A job running in one process, cancelled from another, has its token fired where it runs and ends cancelled.</summary>
    [Fact]
    public async Task Cancel_JobRunningInAnotherProcess_FiresItsTokenThereAndEndsCancelled()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        // The first process runs no workers from here on: only the runner can take the job, and the canceller has none.
        await StopAsync(First);
        var canceller = await StartProcessAsync(startWorkers: false);
        var cancellerJobs = canceller.GetRequiredService<IJobQueue>();
        var cancellerMonitor = canceller.GetRequiredService<Monitoring.IJobQueueMonitor>();
        var runner = await StartProcessAsync();
        var runnerProbe = runner.GetRequiredService<OperationsProbe>();
        var id = (await cancellerJobs.EnqueueAsync(new OperationsJob(60, OperationsJobBehavior.WaitForCancel))).JobId;
        await WhileAdvancingAsync(runnerProbe.WhenStarted(60), TimeSpan.FromSeconds(1));
        Assert.Equal(JobState.Running, (await cancellerMonitor.GetJobAsync(id))!.State);

        Assert.Equal(CancelJobResult.CancellationRequested, await cancellerJobs.CancelAsync(id));

        var info = await WaitForJobAsync(cancellerMonitor, id, i => i?.State == JobState.Cancelled, advance: HeartbeatStep);
        Assert.Equal(1, info!.Attempt);
        Assert.Equal(1, runnerProbe.Cancelled);
        Assert.Equal([60], runnerProbe.Started);
        Assert.Equal(0, (await cancellerMonitor.GetStatusAsync(Queue)).DeadLettered);
    }

    /// <summary>A pause made by one process stops starts in another, and holds for a process started after it.</summary>
    [Fact]
    public async Task Pause_InOneProcess_HoldsInAnotherAndAcrossRestarts()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.Pause | Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        await StopAsync(First);
        var other = await StartProcessAsync();
        var otherJobs = other.GetRequiredService<IJobQueue>();
        var id = (await otherJobs.EnqueueAsync(new OperationsJob(61))).JobId;

        var restarted = await StartProcessAsync();
        var restartedMonitor = restarted.GetRequiredService<Monitoring.IJobQueueMonitor>();
        Assert.True((await restartedMonitor.GetStatusAsync(Queue)).Paused);
        Assert.Equal(JobState.Waiting, (await restartedMonitor.GetJobAsync(id))!.State);

        await otherJobs.ResumeAsync(Queue);
        await WaitForJobAsync(restartedMonitor, id, i => i?.State == JobState.Succeeded, advance: TimeSpan.FromSeconds(1));
    }
}
