namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// What the store attaches to a record it hands out (<see cref="AsyncQueue.Storage.JobRecord.StoreData"/>): the row and
/// the fencing token of this attempt's lease. Every later write about the attempt is conditional on the token.
/// </summary>
/// <param name="Store">The store that leased the job.</param>
/// <param name="Queue">The queue it was leased from.</param>
/// <param name="Seq">The row's key.</param>
/// <param name="Token">The lease's fencing token, from a database sequence: unique and growing across every process.</param>
internal sealed record PostgreSqlLease(PostgreSqlJobStore Store, PostgreSqlQueue Queue, long Seq, long Token)
{
    private long _expires;

    /// <summary>
    /// Gets or sets when the lease expires at the latest, in UTC ticks of the store's clock: the expiry this process
    /// wrote, computed before the write was sent (so the row's own expiry is never earlier). Set at the lease and by
    /// each heartbeat that extended it.
    /// </summary>
    public long Expires
    {
        get => Volatile.Read(ref _expires);
        set => Volatile.Write(ref _expires, value);
    }
}
