using AsyncQueue.Sqlite.Storage;

// A part of the shared StoredJobRow (src/Shared/DurableStorage), so it takes that type's namespace.
#pragma warning disable IDE0130
namespace AsyncQueue.Storage.Durable;
#pragma warning restore IDE0130

/// <summary>Reads the shared <see cref="StoredJobRow"/> from a SQLite row, with its <c>isolated</c> and <c>started</c> columns.</summary>
internal readonly partial record struct StoredJobRow
{
    public static StoredJobRow Read(SqliteRows reader) => new(
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
        StringOrNull(reader, 11))
    {
        Isolated = reader.GetInt64(12) != 0,
        StartRecorded = reader.GetInt64(13) != 0,
    };

    public static string? StringOrNull(SqliteRows reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
