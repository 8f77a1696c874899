using AsyncQueue.Storage;

namespace AsyncQueue;

/// <summary>Describes the job and attempt that a handler is processing.</summary>
/// <remarks>
/// A struct, so that handing it to a handler allocates nothing. It holds copies of the record's values, not the record:
/// the in-memory store reuses a record for its consumer's next job, and a handler may keep its context for longer.
/// </remarks>
public readonly struct JobContext
{
    /// <summary>The longest result <see cref="SetResult"/> accepts, in characters.</summary>
    public const int MaxResultLength = 16 * 1024;

    private readonly long _enqueuedAtTicks;
    private readonly JobRecord? _record;

    internal JobContext(JobRecord record, int attempt)
    {
        _record = record;
        JobId = record.Id;
        Kind = record.Kind;
        Queue = record.Queue;
        Attempt = attempt;
        _enqueuedAtTicks = record.EnqueuedAtTicks;
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

    /// <summary>
    /// Reports a small result of this attempt, such as the address of a file it wrote: when the attempt succeeds, it is
    /// kept with the job's status (<see cref="JobInfo.Result"/>) for the queue's <see cref="QueueOptions.FinishedJobRetention"/>.
    /// Call it from the handler before it returns; a later call replaces an earlier one.
    /// </summary>
    /// <param name="result">The result, at most <see cref="MaxResultLength"/> characters; <see langword="null"/> clears it.</param>
    /// <exception cref="ArgumentException"><paramref name="result"/> is longer than <see cref="MaxResultLength"/>.</exception>
    /// <exception cref="InvalidOperationException">The attempt is over, or this context was not made by a worker.</exception>
    public void SetResult(string? result)
    {
        if (result?.Length > MaxResultLength)
        {
            throw new ArgumentException($"A job's result is at most {MaxResultLength} characters; this one has {result.Length}. Keep large results elsewhere and report where.", nameof(result));
        }

        // A worker's record is reused for its next job: a different id means this attempt is over.
        if (_record is null || _record.Id != JobId || _record.Attempt != Attempt || _record.EndedAttempt == Attempt)
        {
            throw new InvalidOperationException($"SetResult was called after attempt {Attempt} of job {JobId} ended; call it from the handler before it returns.");
        }

        _record.Result = result;
    }
}
