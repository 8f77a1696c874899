using AsyncQueue.Storage;

namespace AsyncQueue;

/// <summary>Describes the job and attempt that a handler is processing.</summary>
/// <remarks>
/// A struct, so that handing it to a handler allocates nothing. It holds copies of the record's values, not the record:
/// the in-memory store reuses a record for its consumer's next job, and a handler may keep its context for longer.
/// </remarks>
public readonly struct JobContext
{
    private readonly long _enqueuedAtTicks;

    internal JobContext(JobRecord record, int attempt)
    {
        JobId = record.Id;
        Kind = record.Kind;
        Queue = record.Queue;
        Attempt = attempt;
        _enqueuedAtTicks = record.EnqueuedAt.UtcTicks;
        IdempotencyKey = record.IdempotencyKey;
    }

    /// <summary>Gets the job's unique id, as returned by <see cref="IJobQueue.EnqueueAsync{TJob}(TJob, EnqueueOptions?, CancellationToken)"/>.</summary>
    public JobId JobId { get; }

    /// <summary>Gets the job's stable kind name (see <see cref="JobKindAttribute"/>).</summary>
    public string Kind { get; }

    /// <summary>Gets the name of the queue the job runs on.</summary>
    public string Queue { get; }

    /// <summary>Gets the attempt number, starting at 1 for the first attempt.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Gets when the job was enqueued, according to the queue's <see cref="TimeProvider"/>. With the system clock and no
    /// duration histogram listened to, it is read from the operating system's coarse clock (accurate to its tick, a few
    /// milliseconds), because a precise clock read costs as much as the rest of an in-memory enqueue.
    /// </summary>
    public DateTimeOffset EnqueuedAt => new(_enqueuedAtTicks, TimeSpan.Zero);

    /// <summary>Gets the idempotency key given at enqueue, or <see langword="null"/> when none was given.</summary>
    public string? IdempotencyKey { get; }
}
