using AsyncQueue.Sqlite.Diagnostics;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// The sweeper: takes over expired leases (.Rescue), frees expired idempotency keys, deletes finished jobs' statuses past
/// their retention or their queue's capacity, evicts old dead letters.
/// </summary>
internal sealed partial class SqliteJobStore
{
    private void Sweep(WriteCycle cycle)
    {
        RescueExpiredLeases(cycle);

        // Keys first, so a row whose key was just freed goes with its status in the same sweep.
        _sql.ReleaseExpiredKeys.Execute(cycle.NowTicks);
        var retained = _sql.CountRetainedKeys.ScalarInt64();
        if (retained > _options.MaxRetainedKeys)
        {
            _sql.ReleaseOldestKeys.Execute(retained - _options.MaxRetainedKeys);
        }

        foreach (var queue in _queueList)
        {
            EvictStatuses(cycle, queue);
        }

        // Each dead-letter queue's retention and capacity, as the dispatcher's target last recorded them.
        var deadLetterQueues = new List<(string Name, long Retention, int Capacity)>();
        using (var reader = _sql.DeadLetterQueueNames.Query())
        {
            while (reader.Read())
            {
                deadLetterQueues.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2)));
            }
        }

        foreach (var (name, retention, capacity) in deadLetterQueues)
        {
            EvictDeadLetters(cycle, name, TimeSpan.FromTicks(retention), capacity);
        }
    }

    /// <summary>
    /// Deletes the finished jobs of a queue this process runs (it knows their options; a queue configured only elsewhere
    /// is swept there) whose status is past <see cref="QueueOptions.FinishedJobRetention"/>, then the oldest beyond
    /// <see cref="QueueOptions.FinishedJobCapacity"/>. A row whose idempotency key is still held stays: its key must keep
    /// refusing duplicates. Evictions by capacity are early, so they are counted and logged (after the commit).
    /// </summary>
    private void EvictStatuses(WriteCycle cycle, SqliteQueue queue)
    {
        var options = queue.Options;
        _sql.DeleteExpiredStatuses.Execute(queue.Name, SubtractTicks(cycle.NowTicks, options.FinishedJobRetention));
        var evicted = _sql.EvictStatusesOverCapacity.Execute(queue.Name, StoredJobStatus.Capacity(options));
        if (evicted > 0)
        {
            cycle.AfterCommit(() =>
            {
                SqliteLog.StatusesEvicted(_logger, evicted, queue.Name, StoredJobStatus.Capacity(options));
                _metrics.StatusEvictions.Add(evicted, SqliteStoreMetrics.Destination(queue.Name));
            });
        }
    }

    /// <summary>Evicts a dead-letter queue's entries past its capacity (oldest first) or older than its retention; each is logged and counted after the commit.</summary>
    private void EvictDeadLetters(WriteCycle cycle, string deadLetterQueue, TimeSpan retention, int capacity)
    {
        List<(Guid Id, string Kind, string Reason)>? evicted = null;
        using (var reader = _sql.EvictOverCapacity.Query(deadLetterQueue, capacity))
        {
            while (reader.Read())
            {
                (evicted ??= []).Add((reader.GetGuid(1), reader.GetString(2), $"the dead-letter queue holds more than its capacity of {capacity}"));
            }
        }

        using (var reader = _sql.EvictOlderThan.Query(deadLetterQueue, SubtractTicks(cycle.NowTicks, retention)))
        {
            while (reader.Read())
            {
                (evicted ??= []).Add((reader.GetGuid(1), reader.GetString(2), $"older than the retention of {retention}"));
            }
        }

        if (evicted is not null)
        {
            cycle.AfterCommit(() =>
            {
                foreach (var (id, kind, reason) in evicted)
                {
                    SqliteLog.DeadLetterEvicted(_logger, deadLetterQueue, new JobId(id), kind, reason);
                    _metrics.DeadLetterEvictions.Add(1, SqliteStoreMetrics.Destination(deadLetterQueue));
                }
            });
        }
    }

    private void EvictStoredTarget(WriteCycle cycle, string deadLetterQueue)
    {
        long retention;
        int capacity;
        using (var reader = _sql.DeadLetterQueueTarget.Query(deadLetterQueue))
        {
            if (!reader.Read())
            {
                return;
            }

            retention = reader.GetInt64(0);
            capacity = reader.GetInt32(1);
        }

        EvictDeadLetters(cycle, deadLetterQueue, TimeSpan.FromTicks(retention), capacity);
    }
}
