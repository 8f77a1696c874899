using AsyncQueue.Engine;

namespace AsyncQueue.Storage;

/// <summary>
/// Where jobs wait between enqueue and completion. For store implementations: applications configure a store
/// (<c>UseSqlite</c>, <c>UsePostgreSql</c>) and never call it. One dispatcher drives every store through this contract;
/// every implementation must pass the conformance kit (the <c>AsyncQueue.Testing</c> package).
/// </summary>
/// <remarks>
/// <para>
/// A store keeps facts and applies decisions; it holds no policy. The dispatcher decides every retry, dead letter and
/// rescue: it calls <see cref="CompleteAsync"/>, <see cref="RescheduleAsync"/> or <see cref="DeadLetterAsync"/> exactly
/// once for every job it fetched, so a job accepted by <see cref="EnqueueAsync"/> is never lost: it runs, runs again
/// later, or is dead-lettered. A store that cannot read a stored job hands it out with an <see cref="UnreadableJob"/>
/// as its value, and the dispatcher dead-letters it.
/// </para>
/// <para>
/// A <see cref="JobStoreCapabilities.Durable"/> store leases the jobs it hands out, fences every later write about an
/// attempt with that lease (a write about a lease that was lost throws <see cref="JobLeaseLostException"/> and changes
/// nothing). With <see cref="JobStoreCapabilities.ExpiringLeases"/> it reports each lease's expiry in
/// <see cref="JobRecord.LeaseExpiresAt"/> and hands jobs whose lease expired to <see cref="OpenExpiredLeaseConsumer"/>;
/// without it (a broker) a lease ends only with its holder's connection, and the job comes back through
/// <see cref="OpenConsumer"/> with the crashed attempt counted.
/// </para>
/// </remarks>
public interface IJobStore
{
    /// <summary>Gets what this store can promise beyond the contract.</summary>
    JobStoreCapabilities Capabilities { get; }

    /// <summary>Gets the store's dead-letter queues, which <see cref="DeadLetterAsync"/> fills.</summary>
    IDeadLetterQueue DeadLetters { get; }

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

    /// <summary>
    /// Accepts a continuation: a job with <see cref="JobRecord.ParentIds"/> (distinct, one or more), for a store with
    /// <see cref="JobStoreCapabilities.Continuations"/>. In one transaction the store looks up every parent: when any is
    /// dead-lettered or cancelled the job is due at once with <see cref="JobRecord.ParentFailed"/> set; otherwise, when
    /// all succeeded it is due at once; otherwise it waits as <see cref="JobState.AwaitingParent"/>, linked to each
    /// parent still waiting, running or itself awaiting its parents, with the count of those links. Later, the
    /// transaction that records a parent's success (<see cref="CompleteAsync"/>) removes its links and makes due each
    /// continuation whose count reaches zero, and the one that dead-letters or cancels it (<see cref="DeadLetterAsync"/>,
    /// <see cref="MarkCancelledAsync"/>, <see cref="CancelAsync"/>) makes its waiting continuations due with
    /// <see cref="JobRecord.ParentFailed"/> set and drops their other links. So each continuation is released or failed
    /// exactly once, whatever crashes between the settlements. The store decides nothing more: the dispatcher reads the
    /// flag on a fetched job and cancels or dead-letters it (<see cref="JobRecord.OnParentFailure"/>). A cancel by id of
    /// a waiting continuation cancels it like a waiting job, and fails its own continuations.
    /// </summary>
    /// <param name="job">The job; its <see cref="JobRecord.ParentIds"/> are set and it holds no idempotency key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Accepted, with the job's id.</returns>
    /// <exception cref="ParentJobNotFoundException">The store holds no job, finished or not, with one of the parents' ids; nothing was stored.</exception>
    /// <exception cref="NotSupportedException">The store lacks <see cref="JobStoreCapabilities.Continuations"/> (the default).</exception>
    ValueTask<EnqueueResult> EnqueueContinuationAsync(JobRecord job, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"This job store ({GetType().Name}) does not keep continuations (JobStoreCapabilities.Continuations).");

    /// <summary>Opens a consumer for one worker of a queue.</summary>
    /// <param name="queue">The queue's name.</param>
    /// <returns>The consumer. A store with <see cref="JobStoreCapabilities.ExpiringLeases"/> hands out a job marked <see cref="JobRecord.Isolated"/> only while it holds no other isolated job.</returns>
    IJobConsumer OpenConsumer(string queue);

    /// <summary>
    /// Opens the consumer of jobs whose lease expired without a heartbeat: their holder crashed, was killed or stalled.
    /// Each is taken over under a fresh lease of this store (fencing out the lost holder), with
    /// <see cref="JobRecord.Attempt"/> the lost attempt's number and <see cref="JobRecord.StartRecorded"/> telling
    /// whether that attempt's start was recorded. The dispatcher decides each one's fate and settles it with
    /// <see cref="RescheduleAsync"/> or <see cref="DeadLetterAsync"/>. A store without
    /// <see cref="JobStoreCapabilities.Durable"/> is not asked; one without <see cref="JobStoreCapabilities.ExpiringLeases"/>
    /// hands nothing out here.
    /// </summary>
    /// <returns>The consumer.</returns>
    IJobConsumer OpenExpiredLeaseConsumer();

    /// <summary>
    /// Records, before its handler runs, that a fetched <see cref="JobRecord.Isolated"/> job's attempt started, so that
    /// a crash during it is charged to it (<see cref="JobRecord.StartRecorded"/>).
    /// </summary>
    /// <param name="job">A job this store handed to a consumer.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the lease was lost meanwhile: the job must not start, and is not settled.</returns>
    ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a fetched job succeeded, with its <see cref="JobRecord.Result"/>. A durable store keeps its status as
    /// <see cref="JobState.Succeeded"/> for the queue's <see cref="QueueOptions.FinishedJobRetention"/> (at most
    /// <see cref="QueueOptions.FinishedJobCapacity"/> of them), and its idempotency key for the queue's
    /// <see cref="QueueOptions.IdempotencyRetention"/>.
    /// </summary>
    /// <param name="job">A job this store handed to a consumer.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the outcome is stored.</returns>
    /// <exception cref="JobLeaseLostException">A durable store's lease on the job was lost; the outcome was discarded.</exception>
    ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a fetched job again, not before <paramref name="runAt"/>, storing its <see cref="JobRecord.Attempt"/>,
    /// <see cref="JobRecord.Errors"/> and <see cref="JobRecord.Isolated"/> as they are now.
    /// </summary>
    /// <param name="job">A job this store handed to a consumer.</param>
    /// <param name="runAt">The earliest time of the next attempt.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the new schedule is stored.</returns>
    /// <exception cref="JobLeaseLostException">A durable store's lease on the job was lost; nothing was changed.</exception>
    ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a fetched job that failed for good to a dead-letter queue (see <see cref="DeadLetters"/>). Its idempotency
    /// key is freed. Entries past the target's retention or capacity are evicted, each one logged and counted.
    /// </summary>
    /// <param name="job">A job this store handed to a consumer; its <see cref="JobRecord.Errors"/> include every failure.</param>
    /// <param name="target">The dead-letter queue and its retention, as the dispatcher chose them.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The dead-letter entry.</returns>
    /// <exception cref="JobLeaseLostException">A durable store's lease on the job was lost; nothing was changed.</exception>
    ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a fetched job was cancelled (<see cref="CancelAsync"/>): it is not run again and not dead-lettered,
    /// its idempotency key is freed, and its status is kept as <see cref="JobState.Cancelled"/> for the queue's
    /// <see cref="QueueOptions.FinishedJobRetention"/>.
    /// </summary>
    /// <param name="job">A job this store handed to a consumer.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the outcome is stored.</returns>
    /// <exception cref="JobLeaseLostException">A durable store's lease on the job was lost; nothing was changed.</exception>
    ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a job by id. A waiting, scheduled or retrying job is taken out at once and kept as
    /// <see cref="JobState.Cancelled"/>. A durable store's leased job is flagged, and the store's lease heartbeat, in
    /// whichever process holds it, calls <see cref="JobRecord.RequestCancellation"/> on it. The in-memory store knows no
    /// running jobs (the dispatcher cancels those) and may answer <see cref="CancelJobResult.Cancelled"/> for a waiting job
    /// that it drops when it comes to hand it out.
    /// </summary>
    /// <param name="id">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What was done.</returns>
    ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>
    /// Gets what the store knows of a job: waiting, scheduled and retrying jobs; a durable store's running (leased)
    /// jobs; and finished jobs, kept for their queue's <see cref="QueueOptions.FinishedJobRetention"/> (a durable store
    /// keeps succeeded and cancelled ones; dead-lettered ones are found in <see cref="DeadLetters"/>' queues).
    /// </summary>
    /// <param name="id">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job's status, or <see langword="null"/> when the store holds no job with this id.</returns>
    ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>
    /// Pauses or resumes a queue. A paused queue accepts jobs and hands none out; jobs already handed out run to their
    /// end. A durable store keeps the state across restarts, and every process sharing it sees it at its next fetch.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="paused"><see langword="true"/> to pause, <see langword="false"/> to resume.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the state is stored.</returns>
    ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken);

    /// <summary>Counts a queue's jobs by state.</summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The counts.</returns>
    ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken);

    /// <summary>
    /// The client's path for a plain job (no options, no trace context). A store may take it without building a record;
    /// by default it builds one and calls <see cref="EnqueueAsync"/>.
    /// </summary>
    internal ValueTask<EnqueueResult> EnqueuePlainAsync(JobRegistration registration, object job, long enqueuedAtTicks, CancellationToken cancellationToken) =>
        EnqueueAsync(new JobRecord(JobId.NewId(), registration.Kind, registration.Queue, job, new DateTimeOffset(enqueuedAtTicks, TimeSpan.Zero)) { Registration = registration }, cancellationToken);

    /// <summary>Called when the job queue stops: a store may fail producers that wait for room, since no worker will free it.</summary>
    internal void StopAccepting()
    {
    }
}
