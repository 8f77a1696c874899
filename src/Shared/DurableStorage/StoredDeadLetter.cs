namespace AsyncQueue.Storage.Durable;

/// <summary>
/// A dead-letter row as stored: what a requeue needs to put the job back as it was enqueued, and what the entry shown
/// to the application is made from. Shared by the durable stores (compiled into each package).
/// </summary>
internal readonly record struct StoredDeadLetter(StoredJobRow Row, string Queue, string DeadLetterQueue, long DeadLetteredAt)
{
    /// <summary>Reads a dead-letter row (<c>seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state, priority</c>).</summary>
    public static StoredDeadLetter Read<TReader>(TReader reader)
        where TReader : IStoredRowReader => new(
        new StoredJobRow(
            reader.GetInt64(0),
            reader.GetGuid(1),
            reader.GetString(4),
            StoredJobRow.StringOrNull(reader, 5),
            reader.GetInt32(6),
            reader.IsDBNull(7) ? null : reader.GetInt32(7),
            reader.GetInt64(8),
            reader.GetInt64(8),
            StoredJobRow.StringOrNull(reader, 10),
            StoredJobRow.StringOrNull(reader, 11),
            StoredJobRow.StringOrNull(reader, 12),
            StoredJobRow.StringOrNull(reader, 13)) { Priority = StoredJobRow.PriorityOf(reader.GetInt32(14)) },
        reader.GetString(3),
        reader.GetString(2),
        reader.GetInt64(9));
}
