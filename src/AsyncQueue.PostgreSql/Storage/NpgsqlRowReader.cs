using System.Data.Common;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>An Npgsql row as the shared row readers see it (<see cref="StoredJobRow.Read{TReader}(TReader)"/>, <see cref="StoredDeadLetter.Read"/>).</summary>
internal readonly struct NpgsqlRowReader(DbDataReader reader) : IStoredRowReader
{
    public bool IsDBNull(int column) => reader.IsDBNull(column);

    public long GetInt64(int column) => reader.GetInt64(column);

    public int GetInt32(int column) => reader.GetInt32(column);

    public string GetString(int column) => reader.GetString(column);

    public Guid GetGuid(int column) => reader.GetGuid(column);

    public bool GetBoolean(int column) => reader.GetBoolean(column);

    public Guid[] GetGuids(int column) => reader.GetFieldValue<Guid[]>(column);
}
