using AsyncQueue.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// The in-memory dead-letter queues, oldest entry first, bounded by each queue's retention (age) and capacity
/// (count). Every eviction is logged and counted: nothing is dropped silently.
/// </summary>
/// <remarks>A lock guards the lists: dead-lettering is the rare path, and no user code runs under it.</remarks>
internal sealed class InMemoryDeadLetters(TimeProvider time, ILogger logger, JobQueueMetrics metrics)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (LinkedList<DeadLetterEntry> Entries, DeadLetterTarget Target)> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<JobId, LinkedListNode<DeadLetterEntry>> _byId = [];

    public void Add(DeadLetterEntry entry, DeadLetterTarget target)
    {
        List<(DeadLetterEntry, string)> evicted = [];
        lock (_gate)
        {
            if (!_queues.TryGetValue(target.Name, out var queue))
            {
                queue = ([], target);
            }

            _queues[target.Name] = (queue.Entries, target);
            _byId[entry.JobId] = queue.Entries.AddLast(entry);
            EvictLocked(target.Name, evicted);
        }

        Report(evicted);
    }

    public IReadOnlyList<DeadLetterEntry> List(string name, int skip, int take)
    {
        List<(DeadLetterEntry, string)> evicted = [];
        DeadLetterEntry[] page;
        lock (_gate)
        {
            EvictLocked(name, evicted);
            page = _queues.TryGetValue(name, out var queue) ? [.. queue.Entries.Skip(skip).Take(take)] : [];
        }

        Report(evicted);
        return page;
    }

    public long Count(string name)
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

    public DeadLetterEntry? Get(JobId jobId)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(jobId, out var node) ? node.Value : null;
        }
    }

    public DeadLetterEntry? Remove(JobId jobId)
    {
        lock (_gate)
        {
            if (!_byId.Remove(jobId, out var node))
            {
                return null;
            }

            node.List!.Remove(node);
            return node.Value;
        }
    }

    public IReadOnlyList<DeadLetterEntry> RemoveAll(string name)
    {
        lock (_gate)
        {
            if (!_queues.TryGetValue(name, out var queue))
            {
                return [];
            }

            DeadLetterEntry[] all = [.. queue.Entries];
            queue.Entries.Clear();
            foreach (var entry in all)
            {
                _byId.Remove(entry.JobId);
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
            else if (first.Value.DeadLetteredAt <= oldestKept)
            {
                reason = $"older than the retention of {queue.Target.Retention}";
            }
            else
            {
                break;
            }

            queue.Entries.RemoveFirst();
            _byId.Remove(first.Value.JobId);
            evicted.Add((first.Value, reason));
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
}
