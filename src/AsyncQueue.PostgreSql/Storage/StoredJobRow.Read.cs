using System.Data.Common;

// A part of the shared StoredJobRow (src/Shared/DurableStorage), so it takes that type's namespace.
#pragma warning disable IDE0130
namespace AsyncQueue.Storage.Durable;
#pragma warning restore IDE0130

/// <summary>Reads the shared <see cref="StoredJobRow"/> from a PostgreSQL (Npgsql) row.</summary>
internal readonly partial record struct StoredJobRow
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
}
