namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// What the store attaches to a record it hands out (<see cref="AsyncQueue.Storage.JobRecord.StoreData"/>): the row and
/// the fencing token of this attempt's lease. Every later write about the attempt is conditional on the token.
/// </summary>
/// <param name="Store">The store that leased the job.</param>
/// <param name="Queue">The queue it was leased from.</param>
/// <param name="Seq">The row's key.</param>
/// <param name="Token">The lease's fencing token, unique in the database and growing.</param>
/// <param name="TakenOver">
/// Whether the lease was taken over from an expired one, for the dispatcher's rescue rather than for a worker: its
/// settle is not followed by a worker's fetch, so the lease step leases nothing for it.
/// </param>
internal sealed record SqliteLease(SqliteJobStore Store, SqliteQueue Queue, long Seq, long Token, bool TakenOver = false);
