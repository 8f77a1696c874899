namespace AsyncQueue.Storage.Durable;

/// <summary>
/// A job row as the status query returns it (<see cref="IJobStore.GetJobAsync"/>), in the column order
/// <c>id, queue, kind, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, errors, priority, started_at, finished_at, result, cancel_requested</c>
/// (state and priority as integers), and the <see cref="JobInfo"/> made from it or from a dead letter. Shared by the
/// durable stores (compiled into each package), which write the SQL.
/// </summary>
internal readonly record struct StoredJobStatus(
    Guid Id,
    string Queue,
    string Kind,
    int State,
    long RunAt,
    int Attempt,
    int? MaxAttempts,
    long EnqueuedAt,
    string? IdempotencyKey,
    string? Errors,
    int Priority,
    long? StartedAt,
    long? FinishedAt,
    string? Result,
    bool CancellationRequested)
{
    /// <summary>Due, scheduled or waiting for a retry (by <c>run_at</c>).</summary>
    public const int Waiting = 0;

    /// <summary>Leased to an attempt.</summary>
    public const int Leased = 1;

    /// <summary>Succeeded: kept for its status and, while it holds one, its idempotency key.</summary>
    public const int Succeeded = 2;

    /// <summary>Cancelled: kept for its status.</summary>
    public const int Cancelled = 3;

    /// <summary>
    /// A continuation waiting for its parent (<see cref="JobState.AwaitingParent"/>). Negative, so that no range over the
    /// other states (<c>state &gt;= 2</c> for finished rows) takes it in.
    /// </summary>
    public const int AwaitingParent = -1;

    public static StoredJobStatus Read<TReader>(TReader reader)
        where TReader : IStoredRowReader => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt32(3),
        reader.GetInt64(4),
        reader.GetInt32(5),
        reader.IsDBNull(6) ? null : reader.GetInt32(6),
        reader.GetInt64(7),
        StoredJobRow.StringOrNull(reader, 8),
        StoredJobRow.StringOrNull(reader, 9),
        reader.GetInt32(10),
        reader.IsDBNull(11) ? null : reader.GetInt64(11),
        reader.IsDBNull(12) ? null : reader.GetInt64(12),
        StoredJobRow.StringOrNull(reader, 13),
        reader.GetBoolean(14));

    /// <summary>
    /// Whether a queue keeps the status of its finished jobs: with a zero retention or capacity it keeps none, and a
    /// finished row goes at once unless its idempotency key is retained.
    /// </summary>
    public static bool KeepsStatus(QueueOptions options) => options.FinishedJobRetention > TimeSpan.Zero && Capacity(options) > 0;

    /// <summary>How many finished jobs' statuses a durable store keeps for a queue: the capacity set, or its default.</summary>
    public static int Capacity(QueueOptions options) => options.FinishedJobCapacity ?? QueueOptions.DurableFinishedJobCapacity;

    /// <summary>
    /// The job's status at <paramref name="nowTicks"/>: a waiting row is scheduled, retrying or waiting by its run time
    /// and whether an attempt was made; <see langword="null"/> for a state this version does not know (a newer writer).
    /// </summary>
    public JobInfo? ToInfo(long nowTicks)
    {
        var errors = JobPayloads.DeserializeErrors(Errors);
        JobState? state = State switch
        {
            Waiting when RunAt <= nowTicks => JobState.Waiting,
            Waiting => errors.Count > 0 || Attempt > 0 ? JobState.Retrying : JobState.Scheduled,
            Leased => JobState.Running,
            Succeeded => JobState.Succeeded,
            Cancelled => JobState.Cancelled,
            AwaitingParent => JobState.AwaitingParent,
            _ => null,
        };
        if (state is not { } known)
        {
            return null;
        }

        return new JobInfo(new JobId(Id), OrNone(Queue), OrNone(Kind), known, FromTicks(EnqueuedAt))
        {
            Priority = StoredJobRow.PriorityOf(Priority),
            Attempt = Attempt,
            MaxAttempts = MaxAttempts,
            StartedAt = StartedAt is { } started ? FromTicks(started) : null,
            FinishedAt = State >= Succeeded && FinishedAt is { } finished ? FromTicks(finished) : null,
            NextRunAt = State == Waiting ? FromTicks(RunAt) : null,
            Errors = errors,
            Result = State == Succeeded ? Result : null,
            IdempotencyKey = IdempotencyKey,
            CancellationRequested = CancellationRequested,
        };
    }

    /// <summary>The status of a dead-lettered job, from its dead-letter row.</summary>
    public static JobInfo FromDeadLetter(StoredDeadLetter dead)
    {
        var row = dead.Row;
        return new JobInfo(new JobId(row.Id), OrNone(dead.Queue), OrNone(row.Kind), JobState.DeadLettered, FromTicks(row.EnqueuedAt))
        {
            Priority = row.Priority,
            Attempt = row.Attempt,
            MaxAttempts = row.MaxAttempts,
            FinishedAt = FromTicks(dead.DeadLetteredAt),
            Errors = JobPayloads.DeserializeErrors(row.Errors),
            IdempotencyKey = row.IdempotencyKey,
            DeadLetterQueue = dead.DeadLetterQueue,
        };
    }

    // A row a foreign writer left without a queue or kind is still shown, not thrown on.
    private static string OrNone(string text) => string.IsNullOrEmpty(text) ? "(none)" : text;

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);
}
