using System.Collections.Concurrent;
using AsyncQueue.Engine;

namespace AsyncQueue.Idempotency;

/// <summary>
/// Idempotency keys in memory: the keys of jobs not yet succeeded in a concurrent dictionary, the keys of succeeded
/// jobs in <see cref="RetainedKeys"/> for their retention, at most <see cref="MaxRetainedKeys"/> of them (the oldest
/// generation evicted first). A claim is one <c>TryAdd</c>, so of any number of racing enqueues with one key exactly
/// one wins the dictionary; the winner then looks the key up among the retained ones.
/// </summary>
/// <remarks>
/// <para>
/// Why two tables: a key waiting or running is held for as long as its job, usually microseconds, so its string,
/// claim and dictionary node die young; a retained key is held for a day, so it is kept as a fixed-size fingerprint
/// (<see cref="KeyHash"/>) in arrays the garbage collector never traces (see <see cref="RetainedKeys"/>).
/// </para>
/// <para>
/// How a key moves between them without a lock: a success first adds the key to the retained table, then removes its
/// claim from the dictionary. A claim added to the dictionary after that removal (the key was free there) looks at the
/// retained table afterwards, and finds it: the dictionary's removal and add are ordered by its lock, the retained
/// table's add is a compare-and-swap (a full fence) before the removal. A claim that finds the key held in the
/// dictionary looks at the retained table too before it names the holder: the holder may be a claim that is about to
/// find the key retained and back off.
/// </para>
/// <para>
/// The in-memory job store keeps the <see cref="Claim"/> a key's job won and marks it succeeded through it
/// (<see cref="MarkSucceeded(Claim, TimeSpan)"/>), without a lookup.
/// </para>
/// </remarks>
internal sealed class InMemoryIdempotencyStore(TimeProvider time)
{
    public const int MaxRetainedKeys = 1_000_000;

    private readonly ConcurrentDictionary<string, Claim> _live = new(StringComparer.Ordinal);
    private readonly RetainedKeys _retained = new(MaxRetainedKeys);

    // A key's expiry needs no better than the coarse clock: it is read once per keyed job on the hot path.
    private readonly CoarseClock _clock = new(time);

    /// <summary>Gets the number of keys held: by jobs not yet succeeded, and retained.</summary>
    public int Count => _live.Count + _retained.Count;

    /// <summary>Gets how many keys of succeeded jobs are retained, the number bounded by <see cref="MaxRetainedKeys"/>.</summary>
    public int RetainedCount => _retained.Count;

    /// <summary>Claims <paramref name="key"/> for <paramref name="jobId"/>, or returns the claim that holds it.</summary>
    /// <returns>The claim holding the key: this job's when its <see cref="Claim.JobId"/> is <paramref name="jobId"/>.</returns>
    public Claim TryClaim(string key, JobId jobId)
    {
        var hash = KeyHash.Of(key);
        var claim = new Claim(key, jobId, hash);
        while (true)
        {
            if (_live.TryAdd(key, claim))
            {
                if (!TryFindRetained(key, hash, out var retained))
                {
                    return claim;
                }

                // The key was retained: this claim backs off (see the remarks for why it must look after its add).
                _live.TryRemove(new KeyValuePair<string, Claim>(key, claim));
                claim.Release();
                return retained;
            }

            if (_live.TryGetValue(key, out var current))
            {
                return TryFindRetained(key, hash, out var retained) ? retained : current;
            }
        }
    }

    public ValueTask MarkSucceededAsync(string key, JobId jobId, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (_live.TryGetValue(key, out var current) && current.JobId == jobId)
        {
            MarkSucceeded(current, retention);
        }

        return default;
    }

    /// <summary>Keeps the key of a succeeded job for <paramref name="retention"/>, through the claim its job won.</summary>
    public void MarkSucceeded(Claim claim, TimeSpan retention)
    {
        // A claim released already (its job was dead-lettered, then requeued) no longer holds its key.
        if (!claim.TryRetain())
        {
            return;
        }

        if (retention > TimeSpan.Zero)
        {
            var now = _clock.UtcTicks(precise: false);
            _retained.Add(claim.Hash, claim.JobId, retention.Ticks >= long.MaxValue - now ? long.MaxValue : now + retention.Ticks, now);
        }

        // Only after the add above: a claim racing for the key finds it in one table or the other.
        _live.TryRemove(new KeyValuePair<string, Claim>(claim.Key, claim));
    }

    public ValueTask ReleaseAsync(string key, JobId jobId, CancellationToken cancellationToken)
    {
        if (_live.TryGetValue(key, out var current) && current.JobId == jobId && _live.TryRemove(new KeyValuePair<string, Claim>(key, current)))
        {
            // A released claim never becomes retained: a dead letter requeued later still carries it, and its success
            // must not hold a key that another job may have claimed since.
            current.Release();
        }

        return default;
    }

    private bool TryFindRetained(string key, KeyHash hash, out Claim retained)
    {
        if (_retained.TryFind(hash, _clock.UtcTicks(precise: false), out var holder))
        {
            retained = new Claim(key, holder, hash, Claim.Retained);
            return true;
        }

        retained = null!;
        return false;
    }

    /// <summary>One job's hold on a key: live until the job succeeds (then retained) or its key is released.</summary>
    /// <remarks>A class, not a record: the dictionary's conditional removal must compare identities, not values.</remarks>
    internal sealed class Claim(string key, JobId jobId, KeyHash hash, int state = Claim.Live)
    {
        public const int Live = 0;
        public const int Retained = 1;
        public const int Released = 2;

        private int _state = state;

        public string Key { get; } = key;

        public JobId JobId { get; } = jobId;

        public KeyHash Hash { get; } = hash;

        /// <summary>Moves a live claim to retained; false when it was retained or released already.</summary>
        public bool TryRetain() => Interlocked.CompareExchange(ref _state, Retained, Live) == Live;

        /// <summary>Ends a live claim whose key was freed, so that it is never retained; false when it was not live.</summary>
        public bool Release() => Interlocked.CompareExchange(ref _state, Released, Live) == Live;
    }
}
