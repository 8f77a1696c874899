namespace AsyncQueue;

/// <summary>
/// What became of a job, at one moment: its state, attempts, times, errors and result
/// (see <see cref="Monitoring.IJobQueueMonitor.GetJobAsync"/>). A snapshot; ask again to see it move on.
/// </summary>
public sealed class JobInfo
{
    /// <summary>Initializes a snapshot. For store implementations; applications receive one from the monitor.</summary>
    /// <param name="id">The job's id.</param>
    /// <param name="queue">The queue it runs on.</param>
    /// <param name="kind">Its kind name.</param>
    /// <param name="state">Its state.</param>
    /// <param name="enqueuedAt">When it was first enqueued.</param>
    public JobInfo(JobId id, string queue, string kind, JobState state, DateTimeOffset enqueuedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentException.ThrowIfNullOrEmpty(kind);
        Id = id;
        Queue = queue;
        Kind = kind;
        State = state;
        EnqueuedAt = enqueuedAt;
    }

    /// <summary>Gets the job's id.</summary>
    public JobId Id { get; }

    /// <summary>Gets the queue the job runs on.</summary>
    public string Queue { get; }

    /// <summary>Gets the job's kind name (see <see cref="JobKindAttribute"/>).</summary>
    public string Kind { get; }

    /// <summary>Gets the job's state.</summary>
    public JobState State { get; }

    /// <summary>Gets the job's priority within its queue.</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;

    /// <summary>Gets how many attempts were started: 0 before the first, 1 during and after it.</summary>
    public int Attempt { get; init; }

    /// <summary>Gets the most attempts the job may make, when its enqueue set one (<see cref="EnqueueOptions.MaxAttempts"/>).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Gets when the job was first enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>
    /// Gets when its latest attempt started, or <see langword="null"/> before the first or where the store does not
    /// record it (the in-memory store records it while the job runs, not after).
    /// </summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Gets when it succeeded, was dead-lettered or was cancelled; <see langword="null"/> while it is not finished.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Gets when a scheduled, retrying or waiting job may run (next), or <see langword="null"/> for any other state.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>Gets the failures of its attempts, oldest first.</summary>
    public IReadOnlyList<JobError> Errors { get; init; } = [];

    /// <summary>Gets what its handler reported through <see cref="JobContext.SetResult"/> in the attempt that succeeded, or <see langword="null"/>.</summary>
    public string? Result { get; init; }

    /// <summary>Gets its idempotency key, or <see langword="null"/>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Gets a value indicating whether a cancellation was requested while it ran (see <see cref="CancelJobResult.CancellationRequested"/>).</summary>
    public bool CancellationRequested { get; init; }

    /// <summary>Gets the dead-letter queue that holds it, when <see cref="State"/> is <see cref="JobState.DeadLettered"/>.</summary>
    public string? DeadLetterQueue { get; init; }

    /// <summary>Returns the job's id, queue, kind and state, for logs.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => $"{Kind} {Id} on '{Queue}': {State}";
}
