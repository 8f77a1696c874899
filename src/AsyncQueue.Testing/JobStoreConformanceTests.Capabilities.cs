using AsyncQueue.Storage;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The tests' paths for a store that lacks a capability (<see cref="IJobStore.Capabilities"/>): each checks what such a
/// store promises instead, so that nothing is skipped and nothing passes without an assertion.
/// </summary>
public abstract partial class JobStoreConformanceTests
{
    /// <summary>
    /// The delay a store without <see cref="JobStoreCapabilities.InjectedClock"/> is asked for, waited on the real clock:
    /// long enough that a job handed out at once is told from one held for its time, short enough for a test run.
    /// </summary>
    private protected static readonly TimeSpan OwnClockDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How much earlier than asked another clock may let a job go: a broker stamps a message's arrival in whole
    /// milliseconds of its own clock. (The wait is measured from before the call, so the call's own time adds margin.)
    /// </summary>
    private protected static readonly TimeSpan OwnClockGranularity = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets a value indicating whether the store keeps idempotency keys (<see cref="JobStoreCapabilities.IdempotencyKeys"/>).</summary>
    private protected bool HasIdempotencyKeys => (Store.Capabilities & JobStoreCapabilities.IdempotencyKeys) != 0;

    /// <summary>Gets a value indicating whether the store's delays follow <see cref="Time"/> (<see cref="JobStoreCapabilities.InjectedClock"/>).</summary>
    private protected bool HasInjectedClock => (Store.Capabilities & JobStoreCapabilities.InjectedClock) != 0;

    /// <summary>
    /// For a store on its own clock: schedules a job <see cref="OwnClockDelay"/> ahead of <see cref="Time"/> (which stands
    /// still, so the store reads exactly that delay), then fetches it and checks that it was held at least that long on
    /// the real clock. A lower bound only: a slow machine makes the wait longer, never shorter, so it cannot flake.
    /// </summary>
    /// <param name="consumer">The consumer to fetch with.</param>
    /// <param name="schedule">Schedules the job for the time it is given (an enqueue with a start time, or a reschedule).</param>
    /// <returns>The job, once handed out.</returns>
    private protected async Task<JobRecord> FetchNotBeforeOwnClockDelayAsync(IJobConsumer consumer, Func<DateTimeOffset, Task> schedule)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(schedule);
        var started = TimeProvider.System.GetTimestamp();
        await schedule(Time.GetUtcNow() + OwnClockDelay);

        var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        var held = TimeProvider.System.GetElapsedTime(started);
        Assert.True(held >= OwnClockDelay - OwnClockGranularity, $"The job was handed out {held.TotalMilliseconds:F0} ms after it was scheduled {OwnClockDelay.TotalMilliseconds:F0} ms ahead.");
        return job;
    }

    /// <summary>
    /// For a store on its own clock: a dead letter into a queue whose retention is <see cref="OwnClockDelay"/> is evicted
    /// once that much real time passed, and not before; and it went into that queue only (the suite's
    /// <see cref="DeadLetters"/> queue, filled by the caller, is checked again by it).
    /// </summary>
    /// <param name="consumer">A consumer of <see cref="Queue"/>.</param>
    /// <returns>A task that completes when the entry was evicted.</returns>
    private protected async Task AssertRetentionOnOwnClockAsync(IJobConsumer consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        var brief = new DeadLetterTarget("conformance-dead-brief", OwnClockDelay, 3);
        await Store.EnqueueAsync(NewJob(100), CancellationToken.None);
        var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        var started = TimeProvider.System.GetTimestamp();
        await Store.DeadLetterAsync(job, brief, CancellationToken.None);

        while (await DeadLetterQueue.CountAsync(brief.Name) != 0)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < Guard, $"The dead letter was still in '{brief.Name}' a minute after it was dead-lettered with a retention of {OwnClockDelay}.");
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        var kept = TimeProvider.System.GetElapsedTime(started);
        Assert.True(kept >= OwnClockDelay - OwnClockGranularity, $"The dead letter was evicted {kept.TotalMilliseconds:F0} ms after it was dead-lettered, before its retention of {OwnClockDelay.TotalMilliseconds:F0} ms.");
    }

    /// <summary>For a store without idempotency keys: a job with a key is refused with <see cref="NotSupportedException"/>, and nothing is enqueued.</summary>
    /// <param name="job">A job with a key.</param>
    /// <returns>A task that completes when checked.</returns>
    private protected async Task AssertKeyedEnqueueRefusedAsync(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Store.EnqueueAsync(job, CancellationToken.None));
        await AssertQueueEmptyAfterRefusalAsync();
    }

    /// <summary>For a store without idempotency keys: a batch in which any job has a key is refused whole, before any of it is enqueued.</summary>
    /// <param name="jobs">The batch; some jobs have keys, the first has none.</param>
    /// <returns>A task that completes when checked.</returns>
    private protected async Task AssertKeyedBatchRefusedAsync(IReadOnlyList<JobRecord> jobs)
    {
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Store.EnqueueBatchAsync(jobs, CancellationToken.None));
        await AssertQueueEmptyAfterRefusalAsync();
    }

    /// <summary>Nothing reached the queue: a job enqueued after the refusal is the first a consumer gets.</summary>
    private async Task AssertQueueEmptyAfterRefusalAsync()
    {
        Assert.Equal((0L, 0L), await CountWaitingAndScheduledAsync());
        await Store.EnqueueAsync(NewJob(99), CancellationToken.None);
        var next = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(new ConformanceJob(99), next.Job);
    }

    private async Task<(long Waiting, long Scheduled)> CountWaitingAndScheduledAsync()
    {
        var counts = await Store.CountAsync(Queue, CancellationToken.None);
        return (counts.Waiting, counts.Scheduled);
    }
}
