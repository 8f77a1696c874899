namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// What the store attaches to a record it hands out (<see cref="AsyncQueue.Storage.JobRecord.StoreData"/>): the row and
/// the fencing token of this attempt's lease. Every later write about the attempt is conditional on the token.
/// </summary>
/// <param name="Store">The store that leased the job.</param>
/// <param name="Queue">The queue it was leased from.</param>
/// <param name="Seq">The row's key.</param>
/// <param name="Token">The lease's fencing token, from a database sequence: unique and growing across every process.</param>
internal sealed record PostgreSqlLease(PostgreSqlJobStore Store, PostgreSqlQueue Queue, long Seq, long Token);
