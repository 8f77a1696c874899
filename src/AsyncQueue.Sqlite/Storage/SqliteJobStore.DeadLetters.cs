using AsyncQueue.Sqlite.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>The dead-letter queues, in the same database: list, get, requeue, delete, purge, and bounded retention.</summary>
internal sealed partial class SqliteJobStore
{
    public ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        return RunAsync<IReadOnlyList<DeadLetterEntry>>("list dead letters", cycle =>
        {
            EvictStoredTarget(cycle, deadLetterQueue);
            var entries = new List<DeadLetterEntry>();
            using var reader = _sql.ListDeadLetters.Query(deadLetterQueue, take, skip);
            while (reader.Read())
            {
                entries.Add(ReadDeadLetter(reader).Entry);
            }

            return entries;
        });
    }

    public ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return RunAsync("count dead letters", cycle =>
        {
            EvictStoredTarget(cycle, deadLetterQueue);
            return _sql.CountDeadLetters.ScalarInt64(deadLetterQueue);
        });
    }

    public ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        RunAsync("get dead letter", _ =>
        {
            using var reader = _sql.GetDeadLetter.Query(jobId.Value);
            return reader.Read() ? ReadDeadLetter(reader).Entry : null;
        });

    public ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        RunAsync("requeue dead letter", cycle =>
        {
            StoredDeadLetter? taken = null;
            using (var reader = _sql.TakeDeadLetter.Query(jobId.Value))
            {
                if (reader.Read())
                {
                    taken = ReadDeadLetter(reader);
                }
            }

            if (taken is not { } dead)
            {
                return false;
            }

            Requeue(dead, cycle);
            return true;
        });

    public ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return RunAsync("requeue dead letters", cycle =>
        {
            var taken = new List<StoredDeadLetter>();
            using (var reader = _sql.TakeAllDeadLetters.Query(deadLetterQueue))
            {
                while (reader.Read())
                {
                    taken.Add(ReadDeadLetter(reader));
                }
            }

            // Back in the order they were dead-lettered.
            taken.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
            foreach (var dead in taken)
            {
                Requeue(dead, cycle);
            }

            return taken.Count;
        });
    }

    public ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        RunAsync("delete dead letter", _ => _sql.DeleteDeadLetter.Execute(jobId.Value) > 0);

    public ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return RunAsync("purge dead letters", _ => _sql.PurgeDeadLetters.Execute(deadLetterQueue));
    }

    /// <summary>Stores a dead letter, remembers its queue's retention, and evicts what is past it.</summary>
    private DeadLetterEntry InsertDeadLetter(WriteCycle cycle, JobRecord record, string? payload, DeadLetterTarget target)
    {
        _sql.InsertDeadLetter.Execute(
            record.Id.Value,
            target.Name,
            record.Queue,
            record.Kind,
            payload,
            record.Attempt,
            record.MaxAttempts,
            record.EnqueuedAt.UtcTicks,
            cycle.NowTicks,
            record.IdempotencyKey,
            JobPayloads.SerializeErrors(record.Errors),
            record.TraceParent,
            record.TraceState);
        _sql.UpsertDeadLetterQueue.Execute(target.Name, target.Retention.Ticks, target.Capacity);
        EvictDeadLetters(cycle, target.Name, target.Retention, target.Capacity);
        return new DeadLetterEntry(record, target.Name, cycle.Now);
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

    /// <summary>Back to its queue as a fresh job: no attempts spent, runnable now, its errors kept for the record. Its key is not claimed again.</summary>
    private void Requeue(StoredDeadLetter dead, WriteCycle cycle)
    {
        var record = dead.Entry.Record;
        _sql.Insert.Execute(
            record.Id.Value,
            record.Queue,
            record.Kind,
            dead.Payload,
            cycle.NowTicks,
            0,
            record.MaxAttempts,
            record.EnqueuedAt.UtcTicks,
            record.IdempotencyKey,
            0,
            JobPayloads.SerializeErrors(record.Errors),
            record.TraceParent,
            record.TraceState);
    }

    /// <summary>Reads a dead-letter row (<c>seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state</c>).</summary>
    private StoredDeadLetter ReadDeadLetter(SqliteRows reader)
    {
        var row = new StoredJobRow(
            reader.GetInt64(0),
            reader.GetGuid(1),
            reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.GetInt32(6),
            reader.IsDBNull(7) ? null : reader.GetInt32(7),
            reader.GetInt64(8),
            reader.GetInt64(8),
            StoredJobRow.StringOrNull(reader, 10),
            StoredJobRow.StringOrNull(reader, 11),
            StoredJobRow.StringOrNull(reader, 12),
            StoredJobRow.StringOrNull(reader, 13));
        var job = _payloads.TryDeserialize(row.Kind, row.Payload, out var reason, out _) ?? new UnreadableJob(row.Kind, row.Payload, reason);
        var record = row.ToRecord(reader.GetString(3), job, storeData: null);
        return new StoredDeadLetter(row.Seq, row.Payload, new DeadLetterEntry(record, reader.GetString(2), FromTicks(reader.GetInt64(9))));
    }

    private readonly record struct StoredDeadLetter(long Seq, string? Payload, DeadLetterEntry Entry);
}
