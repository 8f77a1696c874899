namespace AsyncQueue;

/// <summary>Enqueues jobs to be handled in the background by their <see cref="IJobHandler{TJob}"/>.</summary>
/// <remarks>Thread-safe; resolve it from DI as a singleton and call it from any thread.</remarks>
public interface IJobQueue
{
    /// <summary>Enqueues one job.</summary>
    /// <typeparam name="TJob">A job type registered with <c>AddHandler</c>.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="options">Per-enqueue overrides, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue.</param>
    /// <returns>The job's id and whether it was accepted.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is <see langword="null"/>.</exception>
    /// <exception cref="JobTypeNotRegisteredException">No handler is registered for <typeparamref name="TJob"/>.</exception>
    /// <exception cref="QueueNotConfiguredException"><see cref="EnqueueOptions.Queue"/> names a queue that is not configured.</exception>
    /// <exception cref="JobQueueFullException">The queue is bounded, full, and set to <see cref="QueueFullMode.Throw"/>.</exception>
    /// <exception cref="JobQueueStoppedException">The queue is shutting down and accepts no new jobs.</exception>
    ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull;

    /// <summary>Enqueues several jobs of one type, in order.</summary>
    /// <typeparam name="TJob">A job type registered with <c>AddHandler</c>.</typeparam>
    /// <param name="jobs">The jobs; none may be <see langword="null"/>.</param>
    /// <param name="options">Per-enqueue overrides applied to every job, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue.</param>
    /// <returns>One result per job, in the order given.</returns>
    /// <remarks>Every job is checked before any is enqueued, so a bad element enqueues nothing.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="jobs"/> or one of its elements is <see langword="null"/>.</exception>
    /// <exception cref="JobTypeNotRegisteredException">No handler is registered for <typeparamref name="TJob"/>.</exception>
    /// <exception cref="JobQueueFullException">The queue is bounded, full, and set to <see cref="QueueFullMode.Throw"/>.</exception>
    /// <exception cref="JobQueueStoppedException">The queue is shutting down and accepts no new jobs.</exception>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync<TJob>(IEnumerable<TJob> jobs, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull;

    /// <summary>
    /// Enqueues a continuation: a job that runs only after its parent succeeded. Until then its status is
    /// <see cref="JobState.AwaitingParent"/>; when the parent is dead-lettered or cancelled, the continuation is cancelled
    /// or dead-lettered as <see cref="ContinuationOptions.OnParentFailure"/> says. A durable store keeps the link across
    /// restarts and releases the continuation in the same transaction that records the parent's success.
    /// </summary>
    /// <typeparam name="TJob">A job type registered with <c>AddHandler</c>.</typeparam>
    /// <param name="parentId">The id of the job to wait for, as its enqueue returned it; it may be a continuation itself.</param>
    /// <param name="job">The job.</param>
    /// <param name="options">The continuation's settings, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue.</param>
    /// <returns>The continuation's id. A parent that succeeded already makes it due at once.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options set an <see cref="EnqueueOptions.IdempotencyKey"/>.</exception>
    /// <exception cref="ParentJobNotFoundException">The store knows no job with <paramref name="parentId"/>.</exception>
    /// <exception cref="NotSupportedException">The store is durable and does not support continuations (<see cref="Storage.JobStoreCapabilities.Continuations"/>).</exception>
    /// <exception cref="JobTypeNotRegisteredException">No handler is registered for <typeparamref name="TJob"/>.</exception>
    /// <exception cref="JobQueueStoppedException">The queue is shutting down and accepts no new jobs.</exception>
    ValueTask<EnqueueResult> ContinueWithAsync<TJob>(JobId parentId, TJob job, ContinuationOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull;

    /// <summary>
    /// Enqueues a continuation of several parents, such as the jobs of a batch: a follow-up that runs only after every
    /// one of them succeeded. Until then its status is <see cref="JobState.AwaitingParent"/>; when any of them is
    /// dead-lettered or cancelled, the continuation is cancelled or dead-lettered as
    /// <see cref="ContinuationOptions.OnParentFailure"/> says. A store that keeps continuations counts the parents
    /// still to succeed in the same transaction that settles each of them, so a crash neither loses nor repeats the release.
    /// </summary>
    /// <typeparam name="TJob">A job type registered with <c>AddHandler</c>.</typeparam>
    /// <param name="parentIds">The ids of the jobs to wait for, as their enqueue returned them; an id listed twice is waited for once.</param>
    /// <param name="job">The job.</param>
    /// <param name="options">The continuation's settings, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels a wait for room in a bounded queue.</param>
    /// <returns>The continuation's id. When every parent succeeded already it is due at once.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parentIds"/> or <paramref name="job"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="parentIds"/> is empty, or the options set an <see cref="EnqueueOptions.IdempotencyKey"/>.</exception>
    /// <exception cref="ParentJobNotFoundException">The store knows no job with one of <paramref name="parentIds"/>; nothing was enqueued.</exception>
    /// <exception cref="NotSupportedException">The store is durable and does not support continuations (<see cref="Storage.JobStoreCapabilities.Continuations"/>).</exception>
    /// <exception cref="JobTypeNotRegisteredException">No handler is registered for <typeparamref name="TJob"/>.</exception>
    /// <exception cref="JobQueueStoppedException">The queue is shutting down and accepts no new jobs.</exception>
    ValueTask<EnqueueResult> ContinueWhenAllAsync<TJob>(IReadOnlyCollection<JobId> parentIds, TJob job, ContinuationOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull;

    /// <summary>
    /// Cancels a job by id: a waiting, scheduled or retrying job will not run; a running one has its handler's
    /// cancellation token cancelled, in whichever process runs it. A cancelled job is never retried nor dead-lettered,
    /// and its status becomes <see cref="JobState.Cancelled"/>.
    /// </summary>
    /// <param name="id">The job's id, as its enqueue returned it.</param>
    /// <param name="cancellationToken">Cancels the call, not the job.</param>
    /// <returns>What was done, including that the job had finished already or is not known.</returns>
    /// <exception cref="NotSupportedException">The store keeps no job status (<see cref="Storage.JobStoreCapabilities.JobStatus"/>, such as a broker's); nothing was done.</exception>
    ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pauses a queue: it keeps accepting jobs but starts none, in every process, until <see cref="ResumeAsync"/>;
    /// running jobs finish. A durable store keeps the pause across restarts.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the pause is stored.</returns>
    /// <exception cref="QueueNotConfiguredException">No queue has that name.</exception>
    /// <exception cref="NotSupportedException">The store keeps no pause (<see cref="Storage.JobStoreCapabilities.Pause"/>, such as a broker's); nothing was changed.</exception>
    ValueTask PauseAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused queue (see <see cref="PauseAsync"/>); resuming a queue that is not paused does nothing.</summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the resume is stored.</returns>
    /// <exception cref="QueueNotConfiguredException">No queue has that name.</exception>
    /// <exception cref="NotSupportedException">The store keeps no pause (<see cref="Storage.JobStoreCapabilities.Pause"/>, such as a broker's); nothing was changed.</exception>
    ValueTask ResumeAsync(string queue, CancellationToken cancellationToken = default);
}
