namespace AsyncQueue.Storage.Durable;

/// <summary>
/// A job row as the lease query returns it
/// (<c>seq, id, kind, payload, attempt, max_attempts, enqueued_at, run_at, idempotency_key, errors, trace_parent, trace_state</c>).
/// Shared by the durable stores (compiled into each package), which read it through <see cref="IStoredRowReader"/>;
/// a store that keeps more columns reads them in its own <c>StoredJobRow</c> partial.
/// </summary>
internal readonly partial record struct StoredJobRow(
    long Seq,
    Guid Id,
    string Kind,
    string? Payload,
    int Attempt,
    int? MaxAttempts,
    long EnqueuedAt,
    long RunAt,
    string? IdempotencyKey,
    string? Errors,
    string? TraceParent,
    string? TraceState)
{
    /// <summary>Gets a value indicating whether the job is an isolated suspect of a crash (<see cref="JobRecord.Isolated"/>).</summary>
    public bool Isolated { get; init; }

    /// <summary>Gets a value indicating whether the start of the leased attempt was recorded (<see cref="JobRecord.StartRecorded"/>).</summary>
    public bool StartRecorded { get; init; }

    /// <summary>Gets the job's priority (<see cref="JobRecord.Priority"/>); stored as its number, 0 to 3.</summary>
    public JobPriority Priority { get; init; } = JobPriority.Normal;

    /// <summary>Gets a value indicating whether a cancellation of the job was requested (<see cref="IJobStore.CancelAsync"/>) while it was leased.</summary>
    public bool CancellationRequested { get; init; }

    /// <summary>Gets the id of the parent this continuation waited for (<see cref="JobRecord.ParentId"/>), or <see langword="null"/>.</summary>
    public Guid? ParentId { get; init; }

    /// <summary>Gets what the continuation asks for if its parent fails (<see cref="JobRecord.OnParentFailure"/>).</summary>
    public ParentFailureAction OnParentFailure { get; init; }

    /// <summary>Gets a value indicating whether the continuation was released because its parent failed (<see cref="JobRecord.ParentFailed"/>).</summary>
    public bool ParentFailed { get; init; }

    /// <summary>Reads the row's columns 0 to 11, in the order above; a store reads any columns that follow itself.</summary>
    public static StoredJobRow Read<TReader>(TReader reader)
        where TReader : IStoredRowReader => new(
        reader.GetInt64(0),
        reader.GetGuid(1),
        reader.GetString(2),
        StringOrNull(reader, 3),
        reader.GetInt32(4),
        reader.IsDBNull(5) ? null : reader.GetInt32(5),
        reader.GetInt64(6),
        reader.GetInt64(7),
        StringOrNull(reader, 8),
        StringOrNull(reader, 9),
        StringOrNull(reader, 10),
        StringOrNull(reader, 11));

    public static string? StringOrNull<TReader>(TReader reader, int ordinal)
        where TReader : IStoredRowReader => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A stored priority number as the enum; a number out of range (a foreign writer) reads as the nearest level.</summary>
    public static JobPriority PriorityOf(int stored) => (JobPriority)Math.Clamp(stored, (int)JobPriority.Low, (int)JobPriority.Urgent);

    /// <summary>The record handed to a worker (or kept in a dead letter), with its errors and lease.</summary>
    public JobRecord ToRecord(string queue, object job, object? storeData)
    {
        var record = new JobRecord(new JobId(Id), Kind, queue, job, new DateTimeOffset(EnqueuedAt, TimeSpan.Zero))
        {
            IdempotencyKey = IdempotencyKey,
            MaxAttempts = MaxAttempts,
            NotBefore = RunAt != EnqueuedAt ? new DateTimeOffset(RunAt, TimeSpan.Zero) : null,
            Attempt = Attempt,
            TraceParent = TraceParent,
            TraceState = TraceState,
            StoreData = storeData,
            Isolated = Isolated,
            StartRecorded = StartRecorded,
            Priority = Priority,
            ParentId = ParentId is { } parent ? new JobId(parent) : null,
            OnParentFailure = OnParentFailure,
            ParentFailed = ParentFailed,
        };
        foreach (var error in JobPayloads.DeserializeErrors(Errors))
        {
            record.AddError(error);
        }

        // Before the record is handed out, so no callback runs yet: the dispatcher sees the flag and settles the job
        // as cancelled without starting it (a leased row whose cancel was requested, taken over or fetched again).
        if (CancellationRequested)
        {
            record.RequestCancellation();
        }

        return record;
    }
}
