using AsyncQueue.RateLimiting;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// Queue-wide rate limits shared by every process on the file (<see cref="QueueOptions.RateLimit"/>): a row per queue
/// counts the jobs leased in the current window, read and raised in the lease step's write transaction. The dispatcher
/// holds the policy (the limit, its windows); this store only counts.
/// </summary>
internal sealed partial class SqliteJobStore
{
    /// <summary>How many more of the queue's jobs the current window allows: <see cref="int.MaxValue"/> when it has no shared limit.</summary>
    private int PermitsLeft(SqliteQueue queue, WriteCycle cycle)
    {
        if (SharedLimit(queue) is not { } limit)
        {
            return int.MaxValue;
        }

        var used = _sql.RateUsed.ScalarInt64(queue.Name, limit.WindowOf(cycle.Now), limit.Permits);
        return (int)Math.Max(0, limit.Permits - used);
    }

    /// <summary>When a queue whose window is used up may lease again (the next window's start, in ticks), or <see langword="null"/> when it may now.</summary>
    private long? RateLimitedUntil(SqliteQueue queue, WriteCycle cycle)
    {
        if (SharedLimit(queue) is not { } limit || PermitsLeft(queue, cycle) > 0)
        {
            return null;
        }

        return limit.WindowStart(limit.WindowOf(cycle.Now) + 1).UtcTicks;
    }

    // A per-key limit is counted by each process's dispatcher instead (see JobStoreCapabilities.SharedRateLimits).
    private static JobRateLimit? SharedLimit(SqliteQueue queue) => queue.Options.RateLimit is { Key: null } limit ? limit : null;
}
