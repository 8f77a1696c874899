using System.Globalization;
using AsyncQueue.Storage;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// The dead-letter queues: list, count, get, requeue, delete, purge. A dead letter stays in its queue's slot (its hash
/// keeps the queue's hash tag), in the set <c>{prefix:queue}:dead:NAME</c>; a dead-letter queue fed by several queues
/// is the union of those sets, ordered by the time each entry was dead-lettered, its capacity kept across them. Implemented explicitly, since
/// <see cref="IDeadLetterQueue.CountAsync"/> and <see cref="IJobStore.CountAsync"/> share a name.
/// </summary>
internal sealed partial class RedisJobStore : IDeadLetterQueue
{
    public IDeadLetterQueue DeadLetters => this;

    async ValueTask<IReadOnlyList<DeadLetterEntry>> IDeadLetterQueue.ListAsync(string deadLetterQueue, int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        var all = new List<(RedisQueue Queue, string Id, long At, int Order)>();
        foreach (var queue in _queueList)
        {
            await EvictAsync(queue, deadLetterQueue).ConfigureAwait(false);
            var ids = await _db.SortedSetRangeByRankAsync(queue.Key("dead:" + deadLetterQueue)).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                // One feeding queue is in order already; several are merged by the time each entry was dead-lettered.
                var at = ids.Length > 0 && _queueList.Length > 1 ? (long?)await _db.HashGetAsync(queue.JobKey((string)ids[i]!), "dlat").ConfigureAwait(false) ?? 0 : 0;
                all.Add((queue, (string)ids[i]!, at, i));
            }
        }

        var page = all.OrderBy(e => e.At).ThenBy(e => e.Order).Skip(skip).Take(take);
        var entries = new List<DeadLetterEntry>();
        foreach (var (queue, id, _, _) in page)
        {
            if (await ReadDeadLetterAsync(queue, id).ConfigureAwait(false) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    async ValueTask<long> IDeadLetterQueue.CountAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        long count = 0;
        foreach (var queue in _queueList)
        {
            await EvictAsync(queue, deadLetterQueue).ConfigureAwait(false);
            count += await _db.SortedSetLengthAsync(queue.Key("dead:" + deadLetterQueue)).ConfigureAwait(false);
        }

        return count;
    }

    async ValueTask<DeadLetterEntry?> IDeadLetterQueue.GetAsync(JobId jobId, CancellationToken cancellationToken)
    {
        foreach (var queue in _queueList)
        {
            if (await ReadDeadLetterAsync(queue, IdOf(jobId)).ConfigureAwait(false) is { } entry)
            {
                return entry;
            }
        }

        return null;
    }

    async ValueTask<bool> IDeadLetterQueue.RequeueAsync(JobId jobId, CancellationToken cancellationToken)
    {
        foreach (var queue in _queueList)
        {
            if ((long)await RunAsync(RedisScripts.Requeue, queue, NowTicks, "", NowMs, IdOf(jobId)).ConfigureAwait(false) > 0)
            {
                queue.Wake.Set();
                return true;
            }
        }

        return false;
    }

    async ValueTask<int> IDeadLetterQueue.RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        var count = 0;
        foreach (var queue in _queueList)
        {
            count += (int)await RunAsync(RedisScripts.Requeue, queue, NowTicks, deadLetterQueue, NowMs).ConfigureAwait(false);
            queue.Wake.Set();
        }

        return count;
    }

    async ValueTask<bool> IDeadLetterQueue.DeleteAsync(JobId jobId, CancellationToken cancellationToken)
    {
        foreach (var queue in _queueList)
        {
            if ((long)await RunAsync(RedisScripts.DeleteDead, queue, "", IdOf(jobId)).ConfigureAwait(false) > 0)
            {
                return true;
            }
        }

        return false;
    }

    async ValueTask<int> IDeadLetterQueue.PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        var count = 0;
        foreach (var queue in _queueList)
        {
            count += (int)await RunAsync(RedisScripts.DeleteDead, queue, deadLetterQueue).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>
    /// A dead-letter queue fed by several queues keeps its entries in each feeding queue's slot, where the dead-letter
    /// script keeps the capacity of that part only; this keeps it for the whole, across the queues this process
    /// configures, evicting the oldest first (each eviction one script in its queue's slot, logged and counted).
    /// </summary>
    private async Task EvictPastCapacityAcrossQueuesAsync(DeadLetterTarget target, CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var queue in _queueList)
        {
            total += await _db.SortedSetLengthAsync(queue.Key("dead:" + target.Name)).ConfigureAwait(false);
        }

        if (total <= target.Capacity)
        {
            return;
        }

        var entries = new List<(RedisQueue Queue, string Id, long At)>();
        foreach (var queue in _queueList)
        {
            foreach (var id in await _db.SortedSetRangeByRankAsync(queue.Key("dead:" + target.Name)).ConfigureAwait(false))
            {
                var at = (long?)await _db.HashGetAsync(queue.JobKey((string)id!), "dlat").ConfigureAwait(false) ?? 0;
                entries.Add((queue, (string)id!, at));
            }
        }

        foreach (var (queue, id, _) in entries.OrderBy(e => e.At).Take((int)Math.Min(int.MaxValue, total - target.Capacity)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var kind = (string?)await _db.HashGetAsync(queue.JobKey(id), "kind").ConfigureAwait(false) ?? "";
            if ((long)await RunAsync(RedisScripts.DeleteDead, queue, "", id).ConfigureAwait(false) > 0)
            {
                ReportDeadLetterEvictions(target.Name, [RedisResult.Create((RedisValue)id), RedisResult.Create((RedisValue)kind), RedisResult.Create((RedisValue)"c")], 0);
            }
        }
    }

    private string NowTicks => _time.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture);

    /// <summary>Evicts what is past the dead-letter queue's stored retention or capacity, so a list or count never shows it.</summary>
    private async Task EvictAsync(RedisQueue queue, string deadLetterQueue)
    {
        var evicted = (RedisResult[])(await RunAsync(RedisScripts.EvictDead, queue, deadLetterQueue, NowMs).ConfigureAwait(false))!;
        ReportDeadLetterEvictions(deadLetterQueue, evicted, 0);
    }

    /// <summary>The entry shown to the application: the job read into its registered type, or the stored text when it cannot be.</summary>
    private async Task<DeadLetterEntry?> ReadDeadLetterAsync(RedisQueue queue, string id)
    {
        var hash = await _db.HashGetAllAsync(queue.JobKey(id)).ConfigureAwait(false);
        var f = hash.ToDictionary(e => (string)e.Name!, e => (string?)e.Value, StringComparer.Ordinal);
        if (f.GetValueOrDefault("state") != "dead")
        {
            return null;
        }

        var record = BuildRecord(
            id, queue.Name, f.GetValueOrDefault("kind"), f.GetValueOrDefault("payload"), f.GetValueOrDefault("attempt"), f.GetValueOrDefault("max"),
            f.GetValueOrDefault("enq"), f.GetValueOrDefault("runat"), f.GetValueOrDefault("key"), f.GetValueOrDefault("errors"),
            f.GetValueOrDefault("tp"), f.GetValueOrDefault("ts"), f.GetValueOrDefault("prio"), storeData: null);
        var at = long.TryParse(f.GetValueOrDefault("dlat"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? ms : 0;
        return new DeadLetterEntry(record, f.GetValueOrDefault("dlq") ?? "", FromMs(at));
    }
}
