namespace AsyncQueue.Storage;

/// <summary>
/// A job as a store holds it: the job value with its kind, queue, attempt count and failures.
/// Stores create and update records; application code only reads them (for example in a dead-letter queue).
/// </summary>
public sealed class JobRecord
{
    private List<JobError>? _errors;

    /// <summary>Initializes a new record.</summary>
    /// <param name="id">The job's id.</param>
    /// <param name="kind">The job's stable kind name.</param>
    /// <param name="queue">The queue the job runs on.</param>
    /// <param name="job">The job value, an instance of the type registered for <paramref name="kind"/>.</param>
    /// <param name="enqueuedAt">When the job was first enqueued.</param>
    public JobRecord(JobId id, string kind, string queue, object job, DateTimeOffset enqueuedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(job);
        Id = id;
        Kind = kind;
        Queue = queue;
        Job = job;
        EnqueuedAt = enqueuedAt;
    }

    /// <summary>Gets the job's id.</summary>
    public JobId Id { get; }

    /// <summary>Gets the job's stable kind name.</summary>
    public string Kind { get; }

    /// <summary>Gets the queue the job runs on.</summary>
    public string Queue { get; }

    /// <summary>Gets the job value.</summary>
    public object Job { get; }

    /// <summary>Gets when the job was first enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Gets the idempotency key given at enqueue, or <see langword="null"/>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Gets the most attempts this job may make (<see cref="EnqueueOptions.MaxAttempts"/>), or <see langword="null"/> for the retry policy's limit.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Gets or sets the earliest time the job may start, or <see langword="null"/> for at once.</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>Gets or sets how many attempts have been started. A store increments it when it hands the job to a consumer.</summary>
    public int Attempt { get; set; }

    /// <summary>Gets the failures of earlier attempts, oldest first.</summary>
    public IReadOnlyList<JobError> Errors => (IReadOnlyList<JobError>?)_errors ?? [];

    /// <summary>Records the failure of an attempt.</summary>
    /// <param name="error">The failure.</param>
    public void AddError(JobError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        (_errors ??= []).Add(error);
    }

    /// <summary>Gets the W3C <c>traceparent</c> of the enqueue, so the handler's span continues the producer's trace; stores persist it.</summary>
    public string? TraceParent { get; init; }

    /// <summary>Gets the W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>.</summary>
    public string? TraceState { get; init; }

    /// <summary>
    /// Gets or sets what the store that handed out this record attaches to it, such as its lease (attempt id, fencing
    /// token). The dispatcher never reads it; it hands the record back to the same store.
    /// </summary>
    public object? StoreData { get; set; }

    /// <summary>Forgets the attempt count, as when a dead-lettered job is requeued to run afresh. Its errors stay, for the record.</summary>
    public void ResetAttempts() => Attempt = 0;

    /// <summary>The dispatcher's cached handler registration, so a job enqueued in process is not looked up by kind again.</summary>
    internal Engine.JobRegistration? Registration { get; set; }
}
