namespace AsyncQueue.Recurring;

/// <summary>
/// Lists and controls the recurring jobs at run time. Resolve it from DI. Changes apply to this process only: the
/// schedules are code, registered by every process at start.
/// </summary>
public interface IRecurringJobs
{
    /// <summary>Lists the recurring jobs, in registration order.</summary>
    /// <returns>Each job's schedule, state and next run.</returns>
    IReadOnlyList<RecurringJobInfo> List();

    /// <summary>
    /// Pauses or resumes a recurring job. Ticks while it is paused are skipped, never caught up; a resumed job runs from
    /// its next tick. Pausing a paused job, or resuming a running one, does nothing.
    /// </summary>
    /// <param name="name">The job's name.</param>
    /// <param name="paused"><see langword="true"/> to pause, <see langword="false"/> to resume.</param>
    /// <exception cref="KeyNotFoundException">No recurring job has that name.</exception>
    void SetPaused(string name, bool paused);

    /// <summary>Enqueues the job now, once, outside its schedule (paused or not), without an idempotency key.</summary>
    /// <param name="name">The job's name.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue.</param>
    /// <returns>The enqueue's result.</returns>
    /// <exception cref="KeyNotFoundException">No recurring job has that name.</exception>
    ValueTask<EnqueueResult> TriggerAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Removes a recurring job: it is never enqueued again by this process. Jobs already enqueued still run.</summary>
    /// <param name="name">The job's name.</param>
    /// <returns><see langword="true"/> when it was removed; <see langword="false"/> when no recurring job has that name.</returns>
    bool Remove(string name);
}
