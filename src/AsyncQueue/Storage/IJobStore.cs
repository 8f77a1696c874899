namespace AsyncQueue.Storage;

/// <summary>
/// Where jobs wait between enqueue and completion. One dispatcher drives every store through this contract;
/// the in-memory engine is the default store, and durable stores (SQLite, PostgreSQL, ...) implement it too.
/// Every implementation must pass the shared conformance suite.
/// </summary>
/// <remarks>
/// The dispatcher calls <see cref="CompleteAsync"/>, <see cref="RescheduleAsync"/> or <see cref="DeadLetterAsync"/>
/// exactly once for every job it fetched, so a job accepted by <see cref="EnqueueAsync"/> is never lost: it runs,
/// runs again later, or is dead-lettered.
/// </remarks>
public interface IJobStore
{
    /// <summary>Gets what this store can promise beyond the contract.</summary>
    JobStoreCapabilities Capabilities { get; }

    /// <summary>
    /// Accepts a job, unless its idempotency key is held by a live job. When the call returns, an accepted job will be
    /// handed to a consumer, at once or at its <see cref="JobRecord.NotBefore"/>.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue.</param>
    /// <returns>Accepted with the job's id, or duplicate with the id of the job that holds the key.</returns>
    /// <exception cref="JobQueueFullException">The queue is bounded, full and set to throw; the job was not accepted.</exception>
    ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken);

    /// <summary>Accepts jobs, all for the same queue, in order. When the call returns, the jobs will be handed to consumers.</summary>
    /// <param name="jobs">The jobs, in order; all name the same <see cref="JobRecord.Queue"/>.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue; jobs accepted before the cancellation stay accepted.</param>
    /// <returns>One result per job, in order, as <see cref="EnqueueAsync"/> gives.</returns>
    /// <exception cref="JobQueueFullException">The queue is bounded, full and set to throw; none of the jobs was accepted.</exception>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken);

    /// <summary>Opens a consumer for one worker of a queue.</summary>
    /// <param name="queue">The queue's name.</param>
    /// <returns>The consumer.</returns>
    IJobConsumer OpenConsumer(string queue);

    /// <summary>Records that a fetched job succeeded; the store forgets it, but keeps its idempotency key for the queue's retention.</summary>
    /// <param name="job">A job this store handed to a consumer.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the outcome is stored.</returns>
    ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken);

    /// <summary>Records that a fetched job failed and runs it again, not before <paramref name="runAt"/>.</summary>
    /// <param name="job">A job this store handed to a consumer; its <see cref="JobRecord.Errors"/> include the failure.</param>
    /// <param name="runAt">The earliest time of the next attempt.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the new schedule is stored.</returns>
    ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a fetched job failed for good and moves it to a dead-letter queue, which the store also exposes as
    /// <see cref="IDeadLetterQueue"/>. Its idempotency key is freed. Entries past the target's retention or capacity are
    /// evicted, each one logged and counted.
    /// </summary>
    /// <param name="job">A job this store handed to a consumer; its <see cref="JobRecord.Errors"/> include every failure.</param>
    /// <param name="target">The dead-letter queue and its retention.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The dead-letter entry.</returns>
    ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken);

    /// <summary>Counts the jobs of a queue that are waiting to start (not the ones running or scheduled for later).</summary>
    /// <param name="queue">The queue's name.</param>
    /// <returns>The number of waiting jobs.</returns>
    long CountWaiting(string queue);
}
