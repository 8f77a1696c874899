using AsyncQueue.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// The in-memory dead-letter queues, oldest entry first, bounded by each queue's retention (age) and capacity
/// (count). Every eviction is logged and counted: nothing is dropped silently.
/// </summary>
/// <remarks>
/// A lock guards the lists: dead-lettering is the rare path, and no user code runs under it. Each entry keeps the
/// job's record beside it, for a requeue; the entry handed out is a read-only snapshot.
/// </remarks>
/// <param name="time">The clock of retention and of each entry's time.</param>
/// <param name="logger">Where evictions are logged.</param>
/// <param name="metrics">Where evictions are counted.</param>
/// <param name="requeue">Puts a requeued job's record back in its queue as a fresh job.</param>
internal sealed class InMemoryDeadLetters(TimeProvider time, ILogger logger, JobQueueMetrics metrics, Action<JobRecord> requeue) : IDeadLetterQueue
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (LinkedList<DeadLetter> Entries, DeadLetterTarget Target)> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<JobId, LinkedListNode<DeadLetter>> _byId = [];

    public ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        return new(List(deadLetterQueue, skip, take));
    }

    public ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return new(Count(deadLetterQueue));
    }

    public ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default) => new(Get(jobId));

    public ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default)
    {
        if (Remove(jobId) is not { } record)
        {
            return new(false);
        }

        requeue(record);
        return new(true);
    }

    public ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        var records = RemoveAll(deadLetterQueue);
        foreach (var record in records)
        {
            requeue(record);
        }

        return new(records.Count);
    }

    public ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default) => new(Remove(jobId) is not null);

    public ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return new(RemoveAll(deadLetterQueue).Count);
    }

    /// <summary>Keeps a failed job; <paramref name="record"/> is a record the store may keep.</summary>
    public DeadLetterEntry Add(JobRecord record, DeadLetterTarget target)
    {
        var entry = new DeadLetterEntry(record, target.Name, time.GetUtcNow());
        List<(DeadLetterEntry, string)> evicted = [];
        lock (_gate)
        {
            if (!_queues.TryGetValue(target.Name, out var queue))
            {
                queue = ([], target);
            }

            _queues[target.Name] = (queue.Entries, target);
            _byId[entry.JobId] = queue.Entries.AddLast(new DeadLetter(entry, record));
            EvictLocked(target.Name, evicted);
        }

        Report(evicted);
        return entry;
    }

    private DeadLetterEntry[] List(string name, int skip, int take)
    {
        List<(DeadLetterEntry, string)> evicted = [];
        DeadLetterEntry[] page;
        lock (_gate)
        {
            EvictLocked(name, evicted);
            page = _queues.TryGetValue(name, out var queue) ? [.. queue.Entries.Skip(skip).Take(take).Select(d => d.Entry)] : [];
        }

        Report(evicted);
        return page;
    }

    private long Count(string name)
    {
        List<(DeadLetterEntry, string)> evicted = [];
        long count;
        lock (_gate)
        {
            EvictLocked(name, evicted);
            count = _queues.TryGetValue(name, out var queue) ? queue.Entries.Count : 0;
        }

        Report(evicted);
        return count;
    }

    private DeadLetterEntry? Get(JobId jobId)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(jobId, out var node) ? node.Value.Entry : null;
        }
    }

    private JobRecord? Remove(JobId jobId)
    {
        lock (_gate)
        {
            if (!_byId.Remove(jobId, out var node))
            {
                return null;
            }

            node.List!.Remove(node);
            return node.Value.Record;
        }
    }

    private List<JobRecord> RemoveAll(string name)
    {
        lock (_gate)
        {
            if (!_queues.TryGetValue(name, out var queue))
            {
                return [];
            }

            List<JobRecord> all = [.. queue.Entries.Select(d => d.Record)];
            queue.Entries.Clear();
            foreach (var record in all)
            {
                _byId.Remove(record.Id);
            }

            return all;
        }
    }

    private void EvictLocked(string name, List<(DeadLetterEntry, string)> evicted)
    {
        if (!_queues.TryGetValue(name, out var queue))
        {
            return;
        }

        var oldestKept = time.GetUtcNow() - queue.Target.Retention;
        while (queue.Entries.First is { } first)
        {
            string reason;
            if (queue.Entries.Count > queue.Target.Capacity)
            {
                reason = $"the dead-letter queue holds more than its capacity of {queue.Target.Capacity}";
            }
            else if (first.Value.Entry.DeadLetteredAt <= oldestKept)
            {
                reason = $"older than the retention of {queue.Target.Retention}";
            }
            else
            {
                break;
            }

            queue.Entries.RemoveFirst();
            _byId.Remove(first.Value.Entry.JobId);
            evicted.Add((first.Value.Entry, reason));
        }
    }

    private void Report(List<(DeadLetterEntry Entry, string Reason)> evicted)
    {
        foreach (var (entry, reason) in evicted)
        {
            Log.DeadLetterEvicted(logger, entry.DeadLetterQueue, entry.JobId, entry.Kind, reason);
            metrics.DeadLetterEvictions.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", entry.DeadLetterQueue));
        }
    }

    /// <summary>An entry as shown, and the record it was made from, kept for a requeue.</summary>
    private readonly record struct DeadLetter(DeadLetterEntry Entry, JobRecord Record);
}
