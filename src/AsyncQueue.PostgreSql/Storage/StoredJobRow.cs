using System.Data.Common;
using AsyncQueue.Storage;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// A job row as the lease query returns it
/// (<c>seq, id, kind, payload, attempt, max_attempts, enqueued_at, run_at, idempotency_key, errors, trace_parent, trace_state</c>).
/// </summary>
internal readonly record struct StoredJobRow(
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
    public static StoredJobRow Read(DbDataReader reader) => new(
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

    public static string? StringOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

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
        };
        foreach (var error in JobPayloads.DeserializeErrors(Errors))
        {
            record.AddError(error);
        }

        return record;
    }
}
