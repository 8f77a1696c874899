using System.Collections.Concurrent;
using AsyncQueue.Engine;

namespace AsyncQueue.Idempotency;

/// <summary>
/// Idempotency keys in a concurrent dictionary. A claim is one <c>TryAdd</c> (or a compare-and-swap replacing an
/// expired entry), so of any number of racing enqueues with one key exactly one wins. Keys of succeeded jobs are
/// kept for their retention and at most <see cref="MaxRetainedKeys"/> of them, oldest evicted first; keys of
/// waiting and running jobs are bounded by the jobs themselves.
/// </summary>
/// <remarks>
/// The in-memory job store keeps the <see cref="Claim"/> a key's job won and marks it succeeded through it
/// (<see cref="MarkSucceeded(Claim, TimeSpan)"/>): with up to a million retained keys the dictionary is far larger
/// than the processor's caches, and each lookup spared is a few cache misses spared on every job.
/// </remarks>
internal sealed class InMemoryIdempotencyStore(TimeProvider time)
{
    public const int MaxRetainedKeys = 1_000_000;

    private readonly ConcurrentDictionary<string, Claim> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Claim> _retained = new();

    // A succeeded key's expiry needs no better than the coarse clock: it is read once per job on the hot path.
    private readonly CoarseClock _clock = new(time);
    private int _retainedCount;
    private int _sweeping;

    public int Count => _keys.Count;

    /// <summary>Gets how many keys of succeeded jobs are retained, the number bounded by <see cref="MaxRetainedKeys"/>.</summary>
    public int RetainedCount => Volatile.Read(ref _retainedCount);

    /// <summary>Claims <paramref name="key"/> for <paramref name="jobId"/>, or returns the live claim that holds it.</summary>
    /// <returns>The claim holding the key: this job's when its <see cref="Claim.JobId"/> is <paramref name="jobId"/>.</returns>
    public Claim TryClaim(string key, JobId jobId)
    {
        var claim = new Claim(key, jobId);
        while (true)
        {
            if (_keys.TryAdd(key, claim))
            {
                return claim;
            }

            if (!_keys.TryGetValue(key, out var current))
            {
                continue;
            }

            if (current.ExpiresAtTicks > time.GetUtcNow().UtcTicks)
            {
                return current;
            }

            if (_keys.TryUpdate(key, claim, current))
            {
                return claim;
            }
        }
    }

    public ValueTask MarkSucceededAsync(string key, JobId jobId, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(key, out var current) && current.JobId == jobId)
        {
            MarkSucceeded(current, retention);
        }

        return default;
    }

    /// <summary>Keeps the key of a succeeded job for <paramref name="retention"/>, through the claim its job won.</summary>
    public void MarkSucceeded(Claim claim, TimeSpan retention)
    {
        var now = _clock.UtcTicks(precise: false);

        // A live claim stays in the dictionary until its own job marks or releases it (nothing else removes or
        // replaces a claim that has not expired), so setting its expiry in place needs no lookup and no lock.
        if (claim.TryRetain(retention.Ticks >= Claim.Live - now ? Claim.Live - 1 : now + retention.Ticks))
        {
            _retained.Enqueue(claim);
            Interlocked.Increment(ref _retainedCount);
        }

        Sweep(now);
    }

    public ValueTask ReleaseAsync(string key, JobId jobId, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(key, out var current) && current.JobId == jobId && _keys.TryRemove(new KeyValuePair<string, Claim>(key, current)))
        {
            // A released claim never becomes retained: a dead letter requeued later still carries it, and its success
            // must not count a key that is no longer held against the bound.
            current.Release();
        }

        return default;
    }

    /// <summary>Evicts retained keys that expired, or that exceed the bound, oldest first.</summary>
    private void Sweep(long nowTicks)
    {
        // One sweeper at a time, by a flag rather than a lock: a busy sweeper makes the others skip, so this never waits.
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            return;
        }

        try
        {
            while (_retained.TryPeek(out var oldest) && (oldest.ExpiresAtTicks <= nowTicks || Volatile.Read(ref _retainedCount) > MaxRetainedKeys))
            {
                _retained.TryDequeue(out _);
                Interlocked.Decrement(ref _retainedCount);

                // Removes the key only if it still maps to this very claim (not to a newer claim of the same key).
                _keys.TryRemove(new KeyValuePair<string, Claim>(oldest.Key, oldest));
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>One job's hold on a key: live until the job succeeds, then retained until it expires.</summary>
    /// <remarks>A class, not a record: the dictionary's compare-and-swap must compare identities, not values.</remarks>
    internal sealed class Claim(string key, JobId jobId)
    {
        /// <summary>The expiry of a claim whose job has not succeeded yet: never.</summary>
        public const long Live = long.MaxValue;

        private long _expiresAtTicks = Live;

        public string Key { get; } = key;

        public JobId JobId { get; } = jobId;

        /// <summary>Gets when the key is free again, in UTC ticks; <see cref="Live"/> while its job has not succeeded.</summary>
        public long ExpiresAtTicks => Volatile.Read(ref _expiresAtTicks);

        /// <summary>Sets the expiry of a live claim; false when it was retained or released already.</summary>
        public bool TryRetain(long expiresAtTicks) => Interlocked.CompareExchange(ref _expiresAtTicks, expiresAtTicks, Live) == Live;

        /// <summary>Ends a live claim whose key was freed: expired since ever, so it is never retained.</summary>
        public void Release() => Interlocked.CompareExchange(ref _expiresAtTicks, 0, Live);
    }
}
