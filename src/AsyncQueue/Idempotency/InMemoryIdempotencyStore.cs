using System.Collections.Concurrent;
using AsyncQueue.Engine;

namespace AsyncQueue.Idempotency;

/// <summary>
/// Idempotency keys in a concurrent dictionary. A claim is one <c>TryAdd</c> (or a compare-and-swap replacing an
/// expired entry), so of any number of racing enqueues with one key exactly one wins. Keys of succeeded jobs are
/// kept for their retention and at most <see cref="MaxRetainedKeys"/> of them, oldest evicted first; keys of
/// waiting and running jobs are bounded by the jobs themselves.
/// </summary>
internal sealed class InMemoryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    public const int MaxRetainedKeys = 1_000_000;

    private readonly ConcurrentDictionary<string, Entry> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Key, Entry Entry)> _retained = new();

    // A succeeded key's expiry needs no better than the coarse clock: it is read once per job on the hot path.
    private readonly CoarseClock _clock = new(time);
    private int _retainedCount;
    private int _sweeping;

    public int Count => _keys.Count;

    public ValueTask<JobId> ClaimAsync(string key, JobId jobId, CancellationToken cancellationToken)
    {
        var claim = new Entry(jobId, DateTimeOffset.MaxValue);
        while (true)
        {
            if (_keys.TryAdd(key, claim))
            {
                return new(jobId);
            }

            if (!_keys.TryGetValue(key, out var current))
            {
                continue;
            }

            if (current.ExpiresAt > time.GetUtcNow())
            {
                return new(current.JobId);
            }

            if (_keys.TryUpdate(key, claim, current))
            {
                return new(jobId);
            }
        }
    }

    public ValueTask MarkSucceededAsync(string key, JobId jobId, TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        if (_keys.TryGetValue(key, out var current) && current.JobId == jobId)
        {
            var retained = new Entry(jobId, now + retention);
            if (_keys.TryUpdate(key, retained, current))
            {
                _retained.Enqueue((key, retained));
                Interlocked.Increment(ref _retainedCount);
            }
        }

        Sweep(now);
        return default;
    }

    public ValueTask ReleaseAsync(string key, JobId jobId, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(key, out var current) && current.JobId == jobId)
        {
            _keys.TryRemove(new KeyValuePair<string, Entry>(key, current));
        }

        return default;
    }

    /// <summary>Evicts retained keys that expired, or that exceed the bound, oldest first.</summary>
    private void Sweep(DateTimeOffset now)
    {
        // One sweeper at a time, by a flag rather than a lock: a busy sweeper makes the others skip, so this never waits.
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            return;
        }

        try
        {
            while (_retained.TryPeek(out var oldest) && (oldest.Entry.ExpiresAt <= now || Volatile.Read(ref _retainedCount) > MaxRetainedKeys))
            {
                _retained.TryDequeue(out _);
                Interlocked.Decrement(ref _retainedCount);

                // Removes the key only if it still maps to this very entry (not to a newer claim of the same key).
                _keys.TryRemove(new KeyValuePair<string, Entry>(oldest.Key, oldest.Entry));
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    // A class, not a record: the dictionary's compare-and-swap must compare identities, not values.
    private sealed class Entry(JobId jobId, DateTimeOffset expiresAt)
    {
        public JobId JobId { get; } = jobId;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;
    }
}
