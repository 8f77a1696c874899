namespace AsyncQueue.Storage.Durable;

/// <summary>
/// The few column getters the shared row readers use (<see cref="StoredJobRow.Read{TReader}(TReader)"/>, <see cref="StoredDeadLetter.Read"/>),
/// so one reader serves each store's own reader type. Implemented by structs and taken as a constrained generic, so
/// reading a row neither boxes nor calls through an interface.
/// </summary>
internal interface IStoredRowReader
{
    bool IsDBNull(int column);

    long GetInt64(int column);

    int GetInt32(int column);

    string GetString(int column);

    Guid GetGuid(int column);

    bool GetBoolean(int column);
}
