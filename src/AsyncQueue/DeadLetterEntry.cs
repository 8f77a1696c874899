using AsyncQueue.DeadLetter;
using AsyncQueue.Storage;

namespace AsyncQueue;

/// <summary>
/// A job that failed for good, as kept in its dead-letter queue: the job, where it ran, and every attempt's error.
/// A read-only snapshot: changing what a store keeps goes through <see cref="IDeadLetterQueue"/>.
/// </summary>
public sealed class DeadLetterEntry
{
    /// <summary>Initializes an entry for a dead-lettered job; for store implementations.</summary>
    /// <param name="record">The job's record, with its errors; the entry copies what it shows.</param>
    /// <param name="deadLetterQueue">The dead-letter queue that holds it.</param>
    /// <param name="deadLetteredAt">When it was dead-lettered.</param>
    public DeadLetterEntry(JobRecord record, string deadLetterQueue, DateTimeOffset deadLetteredAt)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        JobId = record.Id;
        Kind = record.Kind;
        Queue = record.Queue;
        Job = record.Job;
        IdempotencyKey = record.IdempotencyKey;
        EnqueuedAt = record.EnqueuedAt;
        DeadLetterQueue = deadLetterQueue;
        DeadLetteredAt = deadLetteredAt;
        Attempts = record.Attempt;
        Errors = [.. record.Errors];
    }

    /// <summary>Gets the job's id.</summary>
    public JobId JobId { get; }

    /// <summary>Gets the job's kind.</summary>
    public string Kind { get; }

    /// <summary>Gets the queue the job ran on, and goes back to when requeued.</summary>
    public string Queue { get; }

    /// <summary>Gets the job itself (its payload), or an <see cref="Storage.UnreadableJob"/> when the store could not read it.</summary>
    public object Job { get; }

    /// <summary>Gets the idempotency key the job was enqueued with, or <see langword="null"/>. A dead letter no longer holds it.</summary>
    public string? IdempotencyKey { get; }

    /// <summary>Gets the name of the dead-letter queue that holds the job.</summary>
    public string DeadLetterQueue { get; }

    /// <summary>Gets how many attempts the job made.</summary>
    public int Attempts { get; }

    /// <summary>Gets when the job was first enqueued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Gets when the job was dead-lettered.</summary>
    public DateTimeOffset DeadLetteredAt { get; }

    /// <summary>Gets every failed attempt's error, oldest first: exception type, message, stack trace and time.</summary>
    public IReadOnlyList<JobError> Errors { get; }

    /// <summary>
    /// Describes the job for display, for example on a dead-letter dashboard: each public property's value as text,
    /// with properties marked <see cref="SensitiveAttribute"/> shown as <c>***</c>.
    /// </summary>
    /// <returns>The description, or <see langword="null"/> when no handler in this process registered the job's type.</returns>
    public IReadOnlyDictionary<string, string?>? DescribeJob() => JobDescriber.Describe(Job);

    /// <summary>Summarizes the entry without exposing sensitive job properties.</summary>
    /// <returns>The kind, id, dead-letter queue, attempts, last error and the redacted job.</returns>
    public override string ToString()
    {
        var job = DescribeJob() is { } description
            ? "{ " + string.Join(", ", description.Select(p => $"{p.Key} = {p.Value}")) + " }"
            : "(payload not shown)";
        var lastError = Errors.Count > 0 ? $"{Errors[^1].ExceptionType}: {Errors[^1].Message}" : "no error recorded";
        return $"{Kind} job {JobId} in '{DeadLetterQueue}' after {Attempts} attempt(s), last error {lastError}; job {job}";
    }
}
