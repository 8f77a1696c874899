namespace AsyncQueue;

/// <summary>
/// The dead-letter queues: jobs that exhausted their attempts or failed permanently, kept with their errors, to
/// list, inspect, requeue, delete or purge. Resolve it from DI; the store implements it.
/// </summary>
public interface IDeadLetterQueue
{
    /// <summary>Lists a dead-letter queue's entries, oldest first.</summary>
    /// <param name="deadLetterQueue">The dead-letter queue's name, for example <c>failed-emails</c>.</param>
    /// <param name="skip">How many entries to skip (paging).</param>
    /// <param name="take">How many entries to return at most.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page of entries.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="skip"/> is negative or <paramref name="take"/> is less than 1.</exception>
    ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default);

    /// <summary>Counts a dead-letter queue's entries.</summary>
    /// <param name="deadLetterQueue">The dead-letter queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of entries.</returns>
    ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default);

    /// <summary>Gets one dead-lettered job.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The entry, or <see langword="null"/> when no dead-letter queue holds that job.</returns>
    ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default);

    /// <summary>Moves a dead-lettered job back to its queue, to run again with a fresh attempt count.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the job was requeued; <see langword="false"/> when no dead-letter queue holds it.</returns>
    ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default);

    /// <summary>Moves every job of a dead-letter queue back to its queue, to run again with a fresh attempt count.</summary>
    /// <param name="deadLetterQueue">The dead-letter queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many jobs were requeued.</returns>
    ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default);

    /// <summary>Deletes one dead-lettered job for good.</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when it was deleted; <see langword="false"/> when no dead-letter queue holds it.</returns>
    ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default);

    /// <summary>Deletes every job of a dead-letter queue for good.</summary>
    /// <param name="deadLetterQueue">The dead-letter queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many jobs were deleted.</returns>
    ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default);
}
