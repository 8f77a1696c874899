using AsyncQueue.Sqlite.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// The dead-letter queues, in the same database: list, get, requeue, delete, purge. Implemented explicitly, since
/// <see cref="IDeadLetterQueue.CountAsync"/> and <see cref="IJobStore.CountAsync"/> share a name; the core reaches them
/// through <see cref="DeadLetters"/>.
/// </summary>
internal sealed partial class SqliteJobStore : IDeadLetterQueue
{
    public IDeadLetterQueue DeadLetters => this;

    ValueTask<IReadOnlyList<DeadLetterEntry>> IDeadLetterQueue.ListAsync(string deadLetterQueue, int skip, int take, CancellationToken cancellationToken)
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
                entries.Add(EntryOf(StoredDeadLetter.Read(reader)));
            }

            return entries;
        });
    }

    ValueTask<long> IDeadLetterQueue.CountAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return RunAsync("count dead letters", cycle =>
        {
            EvictStoredTarget(cycle, deadLetterQueue);
            return _sql.CountDeadLetters.ScalarInt64(deadLetterQueue);
        });
    }

    ValueTask<DeadLetterEntry?> IDeadLetterQueue.GetAsync(JobId jobId, CancellationToken cancellationToken) =>
        RunAsync("get dead letter", _ =>
        {
            using var reader = _sql.GetDeadLetter.Query(jobId.Value);
            return reader.Read() ? EntryOf(StoredDeadLetter.Read(reader)) : null;
        });

    ValueTask<bool> IDeadLetterQueue.RequeueAsync(JobId jobId, CancellationToken cancellationToken) =>
        RunAsync("requeue dead letter", cycle =>
        {
            StoredDeadLetter? taken = null;
            using (var reader = _sql.TakeDeadLetter.Query(jobId.Value))
            {
                if (reader.Read())
                {
                    taken = StoredDeadLetter.Read(reader);
                }
            }

            if (taken is not { } dead)
            {
                return false;
            }

            Requeue(dead, cycle);
            return true;
        });

    ValueTask<int> IDeadLetterQueue.RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return RunAsync("requeue dead letters", cycle =>
        {
            var taken = new List<StoredDeadLetter>();
            using (var reader = _sql.TakeAllDeadLetters.Query(deadLetterQueue))
            {
                while (reader.Read())
                {
                    taken.Add(StoredDeadLetter.Read(reader));
                }
            }

            // Back in the order they were dead-lettered.
            taken.Sort(static (a, b) => a.Row.Seq.CompareTo(b.Row.Seq));
            foreach (var dead in taken)
            {
                Requeue(dead, cycle);
            }

            return taken.Count;
        });
    }

    ValueTask<bool> IDeadLetterQueue.DeleteAsync(JobId jobId, CancellationToken cancellationToken) =>
        RunAsync("delete dead letter", _ => _sql.DeleteDeadLetter.Execute(jobId.Value) > 0);

    ValueTask<int> IDeadLetterQueue.PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken)
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
            record.TraceState,
            (int)record.Priority);
        _sql.UpsertDeadLetterQueue.Execute(target.Name, target.Retention.Ticks, target.Capacity);
        EvictDeadLetters(cycle, target.Name, target.Retention, target.Capacity);
        return new DeadLetterEntry(record, target.Name, cycle.Now);
    }

    /// <summary>Back to its queue as a fresh job: no attempts spent, runnable now, not isolated, its priority and errors kept. Its key is not claimed again.</summary>
    private void Requeue(StoredDeadLetter dead, WriteCycle cycle)
    {
        var row = dead.Row;
        _sql.Insert.Execute(
            row.Id,
            dead.Queue,
            row.Kind,
            row.Payload,
            cycle.NowTicks,
            0,
            row.MaxAttempts,
            row.EnqueuedAt,
            row.IdempotencyKey,
            0,
            row.Errors,
            row.TraceParent,
            row.TraceState,
            (int)row.Priority);
    }

    /// <summary>The entry shown to the application: the job read into its registered type, or the stored text when it cannot be.</summary>
    private DeadLetterEntry EntryOf(StoredDeadLetter dead)
    {
        var record = dead.Row.ToRecord(dead.Queue, _payloads.Read(dead.Row.Kind, dead.Row.Payload), storeData: null);
        return new DeadLetterEntry(record, dead.DeadLetterQueue, FromTicks(dead.DeadLetteredAt));
    }
}
