using AsyncQueue.Sqlite.Storage;

// A part of the shared StoredJobRow (src/Shared/DurableStorage), so it takes that type's namespace.
#pragma warning disable IDE0130
namespace AsyncQueue.Storage.Durable;
#pragma warning restore IDE0130

/// <summary>Reads the shared <see cref="StoredJobRow"/> from a SQLite row, with its <c>isolated</c>, <c>started</c>, <c>priority</c> and <c>cancel_requested</c> columns.</summary>
internal readonly partial record struct StoredJobRow
{
    public static StoredJobRow Read(SqliteRows reader) => Read<SqliteRows>(reader) with
    {
        Isolated = reader.GetInt64(12) != 0,
        StartRecorded = reader.GetInt64(13) != 0,
        Priority = PriorityOf(reader.GetInt32(14)),
        CancellationRequested = reader.GetInt64(15) != 0,
    };
}
