using AsyncQueue.RateLimiting;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// Queue-wide rate limits shared by every process on the Redis server (<see cref="QueueOptions.RateLimit"/>): the fetch
/// script reads and raises the queue's count of the current window with the lease (see <see cref="RedisScripts.Fetch"/>).
/// The dispatcher holds the policy (the limit, its windows); this store only counts.
/// </summary>
internal sealed partial class RedisJobStore
{
    // A per-key limit is counted by each process's dispatcher instead (see JobStoreCapabilities.SharedRateLimits).
    private static JobRateLimit? SharedLimit(RedisQueue queue) => queue.Options.RateLimit is { Key: null } limit ? limit : null;
}
