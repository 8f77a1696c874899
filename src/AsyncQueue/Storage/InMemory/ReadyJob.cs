using AsyncQueue.Engine;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// A job waiting in an <see cref="InMemoryQueue"/>. A plain job (no options, first attempt) is stored by value in the
/// queue's own storage, so enqueueing it allocates nothing beyond the job; anything else waits as its full record.
/// </summary>
/// <remarks>
/// Why not a record per job: a record allocated at enqueue lives until its job has run, so under a backlog the
/// garbage collector copies every one of them into older generations. That, not the queue, was most of an enqueue's cost.
/// </remarks>
internal readonly struct ReadyJob
{
    private ReadyJob(object value, JobRegistration? registration, long sequence, long enqueuedAtTicks)
    {
        Value = value;
        Registration = registration;
        Sequence = sequence;
        EnqueuedAtTicks = enqueuedAtTicks;
    }

    /// <summary>Gets the job value of a plain job, or the <see cref="JobRecord"/> of any other.</summary>
    public object Value { get; }

    /// <summary>Gets the plain job's registration, or <see langword="null"/> when <see cref="Value"/> is a record.</summary>
    public JobRegistration? Registration { get; }

    /// <summary>Gets the plain job's id, as its number in this process's sequence (<see cref="JobId.FromSequence"/>).</summary>
    public long Sequence { get; }

    /// <summary>Gets when the plain job was enqueued, in UTC ticks.</summary>
    public long EnqueuedAtTicks { get; }

    /// <summary>Gets the job's id.</summary>
    public JobId Id => Registration is null ? ((JobRecord)Value).Id : JobId.FromSequence(Sequence);

    public static ReadyJob Plain(JobRegistration registration, object job, long sequence, long enqueuedAtTicks) =>
        new(job, registration, sequence, enqueuedAtTicks);

    public static ReadyJob Of(JobRecord record) => new(record, null, 0, 0);
}
