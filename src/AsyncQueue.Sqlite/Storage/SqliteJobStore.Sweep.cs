using AsyncQueue.Sqlite.Diagnostics;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>The sweeper: takes over expired leases (.Rescue), frees expired idempotency keys, evicts old dead letters.</summary>
internal sealed partial class SqliteJobStore
{
    private void Sweep(WriteCycle cycle)
    {
        RescueExpiredLeases(cycle);

        _sql.EvictExpiredKeys.Execute(cycle.NowTicks);
        var retained = _sql.CountRetainedKeys.ScalarInt64();
        if (retained > _options.MaxRetainedKeys)
        {
            _sql.EvictOldestKeys.Execute(retained - _options.MaxRetainedKeys);
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
