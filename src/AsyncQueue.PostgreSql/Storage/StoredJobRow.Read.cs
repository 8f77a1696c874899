using AsyncQueue.PostgreSql.Storage;

// A part of the shared StoredJobRow (src/Shared/DurableStorage), so it takes that type's namespace.
#pragma warning disable IDE0130
namespace AsyncQueue.Storage.Durable;
#pragma warning restore IDE0130

/// <summary>Reads the shared <see cref="StoredJobRow"/> from a leased PostgreSQL row (<see cref="PostgreSqlStatements.LeasedColumns"/>).</summary>
internal readonly partial record struct StoredJobRow
{
    /// <summary>Reads columns 0 to 11, the isolated flag (13), the priority (14), whether a cancel was requested (15) and the continuation's columns (16 to 18); the token (12) is the caller's.</summary>
    public static StoredJobRow ReadLeased(NpgsqlRowReader reader) => Read(reader) with
    {
        Isolated = reader.GetBoolean(13),
        Priority = PriorityOf(reader.GetInt32(14)),
        CancellationRequested = reader.GetBoolean(15),
        ParentFailed = reader.GetBoolean(16),
        OnParentFailure = reader.GetInt32(17) == 1 ? ParentFailureAction.DeadLetter : ParentFailureAction.Cancel,
        ParentIds = reader.IsDBNull(18) ? null : reader.GetGuids(18),
    };
}
