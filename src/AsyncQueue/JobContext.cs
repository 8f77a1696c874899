using AsyncQueue.Storage;

namespace AsyncQueue;

/// <summary>Describes the job and attempt that a handler is processing.</summary>
/// <remarks>A struct over the job's record, so that handing it to a handler allocates nothing.</remarks>
public readonly struct JobContext
{
    private readonly JobRecord _record;

    internal JobContext(JobRecord record, int attempt)
    {
        _record = record;
        Attempt = attempt;
    }

    /// <summary>Gets the job's unique id, as returned by <see cref="IJobQueue.EnqueueAsync{TJob}(TJob, EnqueueOptions?, CancellationToken)"/>.</summary>
    public JobId JobId => _record.Id;

    /// <summary>Gets the job's stable kind name (see <see cref="JobKindAttribute"/>).</summary>
    public string Kind => _record.Kind;

    /// <summary>Gets the name of the queue the job runs on.</summary>
    public string Queue => _record.Queue;

    /// <summary>Gets the attempt number, starting at 1 for the first attempt.</summary>
    public int Attempt { get; }

    /// <summary>Gets when the job was enqueued, according to the queue's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset EnqueuedAt => _record.EnqueuedAt;

    /// <summary>Gets the idempotency key given at enqueue, or <see langword="null"/> when none was given.</summary>
    public string? IdempotencyKey => _record.IdempotencyKey;
}
