using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The tests' paths for a store that lacks a capability the operations need (<see cref="IJobStore.Capabilities"/>):
/// each checks what such a store promises instead (the operation refused with <see cref="NotSupportedException"/>, and
/// nothing lost: the job it was asked about still runs), so that nothing is skipped and nothing passes unchecked.
/// </summary>
public abstract partial class JobQueueOperationsConformanceTests
{
    /// <summary>
    /// The delay a store without <see cref="JobStoreCapabilities.InjectedClock"/> is given instead of one on
    /// <see cref="Time"/>, waited on the real clock: long enough to tell a job held for it from one run at once.
    /// </summary>
    private protected static readonly TimeSpan OwnClockDelay = TimeSpan.FromSeconds(2);

    /// <summary>How much earlier than asked another clock may let a job go (a broker stamps arrivals in whole milliseconds).</summary>
    private static readonly TimeSpan OwnClockGranularity = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets what the store under test declares it can do (read from the first process, so it is known after a test stopped it).</summary>
    private protected JobStoreCapabilities Capabilities { get; private set; }

    /// <summary>
    /// Whether the store has every capability in <paramref name="needed"/>. For each it lacks, first checks what it
    /// promises instead: without <see cref="JobStoreCapabilities.JobStatus"/> a status or cancel by id is refused and the
    /// job runs; without <see cref="JobStoreCapabilities.Pause"/> a pause and a resume are refused and jobs run; without
    /// <see cref="JobStoreCapabilities.Priorities"/> jobs of every priority are accepted and run; without
    /// <see cref="JobStoreCapabilities.IdempotencyKeys"/> a keyed enqueue is refused and enqueues nothing; without
    /// <see cref="JobStoreCapabilities.InjectedClock"/> a delayed job is held at least its delay on the real clock.
    /// </summary>
    /// <param name="needed">The capabilities the calling test needs.</param>
    /// <returns><see langword="true"/> when the calling test goes on to check the feature itself.</returns>
    private protected async Task<bool> OffersAsync(JobStoreCapabilities needed)
    {
        const JobStoreCapabilities Checked = JobStoreCapabilities.JobStatus | JobStoreCapabilities.Pause | JobStoreCapabilities.Priorities
            | JobStoreCapabilities.IdempotencyKeys | JobStoreCapabilities.InjectedClock;
        if ((needed & ~Checked) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(needed), needed, "The operations suite has no check of what a store promises without this capability.");
        }

        var missing = needed & ~Capabilities;
        if ((missing & JobStoreCapabilities.JobStatus) != 0)
        {
            await AssertJobStatusRefusedAsync();
        }

        if ((missing & JobStoreCapabilities.Pause) != 0)
        {
            await AssertPauseRefusedAsync();
        }

        if ((missing & JobStoreCapabilities.Priorities) != 0)
        {
            await AssertPrioritiesAcceptedAndRunAsync();
        }

        if ((missing & JobStoreCapabilities.IdempotencyKeys) != 0)
        {
            await AssertKeyedEnqueueRefusedAsync();
        }

        if ((missing & JobStoreCapabilities.InjectedClock) != 0)
        {
            await AssertDelayHeldOnOwnClockAsync();
        }

        return missing == 0;
    }

    /// <summary>Whether the store declares <paramref name="capability"/>, without checking anything.</summary>
    /// <param name="capability">The capability.</param>
    /// <returns><see langword="true"/> when it does.</returns>
    private protected bool Has(JobStoreCapabilities capability) => (Capabilities & capability) == capability;

    /// <summary>A status and a cancel by id are refused, the job is neither cancelled nor lost: it runs to its end.</summary>
    private async Task AssertJobStatusRefusedAsync()
    {
        var id = (await Jobs.EnqueueAsync(new OperationsJob(900))).JobId;

        await Assert.ThrowsAsync<NotSupportedException>(async () => await Monitor.GetJobAsync(id));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.CancelAsync(id));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.CancelAsync(JobId.NewId()));

        await Probe.WhenStarted(900).WaitAsync(Guard);
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);
        Assert.Equal(0, Probe.Cancelled);
        Assert.Equal(0, (await Monitor.GetStatusAsync(Queue)).DeadLettered);
    }

    /// <summary>A pause and a resume are refused, the queue never reads as paused, and its jobs run.</summary>
    private async Task AssertPauseRefusedAsync()
    {
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.PauseAsync(Queue));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.ResumeAsync(Queue));

        Assert.False((await Monitor.GetStatusAsync(Queue)).Paused);
        await Jobs.EnqueueAsync(new OperationsJob(901));
        await Probe.WhenStarted(901).WaitAsync(Guard);
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);
    }

    /// <summary>Jobs of every priority are accepted (a priority only orders jobs, so it is not refused) and every one runs.</summary>
    private async Task AssertPrioritiesAcceptedAndRunAsync()
    {
        JobPriority[] priorities = [JobPriority.Low, JobPriority.Urgent, JobPriority.Normal, JobPriority.High];
        for (var i = 0; i < priorities.Length; i++)
        {
            var result = await Jobs.EnqueueAsync(new OperationsJob(910 + i), new EnqueueOptions { Priority = priorities[i] });
            Assert.Equal(EnqueueStatus.Accepted, result.Status);
        }

        for (var i = 0; i < priorities.Length; i++)
        {
            await Probe.WhenStarted(910 + i).WaitAsync(Guard);
        }

        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);
    }

    /// <summary>An enqueue with an idempotency key is refused, and the job never runs.</summary>
    private async Task AssertKeyedEnqueueRefusedAsync()
    {
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.EnqueueAsync(new OperationsJob(920), new EnqueueOptions { IdempotencyKey = "op-920" }));

        await Jobs.EnqueueAsync(new OperationsJob(921));
        await Probe.WhenStarted(921).WaitAsync(Guard);
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);
        Assert.DoesNotContain(920, Probe.Started);
    }

    /// <summary>
    /// A job delayed by <see cref="OwnClockDelay"/> on <see cref="Time"/> (which stands still here) starts no sooner
    /// than that on the real clock. A lower bound only, so a slow machine cannot make it fail.
    /// </summary>
    private async Task AssertDelayHeldOnOwnClockAsync()
    {
        var started = TimeProvider.System.GetTimestamp();
        await Jobs.EnqueueAsync(new OperationsJob(930), new EnqueueOptions { Delay = OwnClockDelay });

        await Probe.WhenStarted(930).WaitAsync(Guard);

        var held = TimeProvider.System.GetElapsedTime(started);
        Assert.True(held >= OwnClockDelay - OwnClockGranularity, $"The job started {held.TotalMilliseconds:F0} ms after it was enqueued with a delay of {OwnClockDelay.TotalMilliseconds:F0} ms.");
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);
    }

    /// <summary>
    /// Without job status: a failing job is retried once and then dead-lettered with both errors, seen where such a
    /// store shows it (its dead-letter queue, by the job's id). A store on its own clock gets a process whose retry waits
    /// <see cref="OwnClockDelay"/> of real time instead of the suite's minute of fake time.
    /// </summary>
    private async Task AssertFailingJobDeadLetteredWithoutStatusAsync()
    {
        var process = First;
        if (!Has(JobStoreCapabilities.InjectedClock))
        {
            await StopAsync(First);
            process = await StartProcessAsync(configure: q => q.Retry = RetryPolicy.Fixed(1, OwnClockDelay));
        }

        var jobs = process.GetRequiredService<IJobQueue>();
        var monitor = process.GetRequiredService<IJobQueueMonitor>();
        var probe = process.GetRequiredService<OperationsProbe>();
        var deadLetters = process.GetRequiredService<IDeadLetterQueue>();
        var id = (await jobs.EnqueueAsync(new OperationsJob(2, OperationsJobBehavior.Fail))).JobId;
        await Assert.ThrowsAsync<NotSupportedException>(async () => await monitor.GetJobAsync(id));

        using var guard = new CancellationTokenSource(Guard);
        DeadLetterEntry? dead;
        while ((dead = await deadLetters.GetAsync(id)) is null)
        {
            if (guard.IsCancellationRequested)
            {
                // Tells a job never dead-lettered from one dead-lettered but not found by its id.
                var status = await monitor.GetStatusAsync(Queue);
                Assert.Fail($"Job {id} was not found in its dead-letter queue within {Guard}; its handler started {probe.Started.Count} times, and '{status.DeadLetterQueue}' holds {status.DeadLettered}.");
            }
            if (Has(JobStoreCapabilities.InjectedClock))
            {
                Time.Advance(TimeSpan.FromSeconds(20));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None);
        }

        Assert.Equal(2, dead.Attempts);
        Assert.Equal(["failure of job 2, attempt 1", "failure of job 2, attempt 2"], dead.Errors.Select(e => e.Message));
        Assert.Equal((await monitor.GetStatusAsync(Queue)).DeadLetterQueue, dead.DeadLetterQueue);
        Assert.Equal([2, 2], probe.Started);
    }
}
