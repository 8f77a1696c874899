using AsyncQueue.Sqlite.Storage;

// A part of the shared StoredJobRow (src/Shared/DurableStorage), so it takes that type's namespace.
#pragma warning disable IDE0130
namespace AsyncQueue.Storage.Durable;
#pragma warning restore IDE0130

/// <summary>Reads the shared <see cref="StoredJobRow"/> from a SQLite row, with its <c>isolated</c>, <c>started</c>, <c>priority</c>, <c>cancel_requested</c>, <c>parent_failed</c>, <c>on_parent_failure</c> and <c>parent_id</c> columns.</summary>
internal readonly partial record struct StoredJobRow
{
    public static StoredJobRow Read(SqliteRows reader) => Read<SqliteRows>(reader) with
    {
        Isolated = reader.GetInt64(12) != 0,
        StartRecorded = reader.GetInt64(13) != 0,
        Priority = PriorityOf(reader.GetInt32(14)),
        CancellationRequested = reader.GetInt64(15) != 0,
        ParentFailed = reader.GetInt64(16) != 0,
        OnParentFailure = reader.GetInt64(17) == 1 ? ParentFailureAction.DeadLetter : ParentFailureAction.Cancel,
        ParentId = reader.IsDBNull(18) ? null : reader.GetGuid(18),
    };
}
