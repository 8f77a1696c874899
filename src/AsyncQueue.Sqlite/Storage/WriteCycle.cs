namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// One write transaction of the writer loop: the time it runs at, and the effects to publish only once it commits
/// (results, leased jobs handed to workers, log lines, observers). A rolled-back cycle publishes nothing.
/// </summary>
internal sealed class WriteCycle(DateTimeOffset now, int queues)
{
    private List<Action>? _afterCommit;
    private long _fence;

    public DateTimeOffset Now { get; } = now;

    public long NowTicks => Now.UtcTicks;

    /// <summary>Gets how many jobs of each queue this cycle settled: each worker that settles a job fetches the next, so the writer leases for it now.</summary>
    public int[] Settled { get; } = new int[queues];

    /// <summary>Gets how many jobs of each queue this cycle completed for workers that did not wait for the commit (they fetched already): the queue is busy.</summary>
    public int[] SettledDetached { get; } = new int[queues];

    /// <summary>Gets or sets a value indicating whether this cycle leased an isolated job: one at a time, so no second.</summary>
    public bool IsolatedLeased { get; set; }

    /// <summary>Gets or sets a value indicating whether this cycle settled the isolated job the store held, so the lease step may lease the next.</summary>
    public bool IsolatedReleased { get; set; }

    public void AfterCommit(Action action) => (_afterCommit ??= []).Add(action);

    /// <summary>Gets this transaction's fencing token, drawing it from the database the first time.</summary>
    public long Fence(SqliteStatements sql)
    {
        if (_fence == 0)
        {
            _fence = sql.NextFence.ScalarInt64();
        }

        return _fence;
    }

    public void Publish()
    {
        if (_afterCommit is null)
        {
            return;
        }

        foreach (var action in _afterCommit)
        {
            action();
        }
    }
}
