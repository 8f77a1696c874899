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
/// How a key moves between them without a lock: a success marks its claim retained in place, with its expiry, and the
/// claims that come next (each moves two) add the key to the retained table, then remove the claim from the dictionary,
/// so the worker that ran the job does not pay for a lookup in a dictionary as large as the backlog. Until it moves, the
/// retained claim holds the key in the dictionary (until its expiry; then a claim replaces it with <c>TryUpdate</c>). A
/// claim added to the dictionary after the removal (the key was free there) looks at the retained table afterwards, and
/// finds it: the dictionary's removal and add are ordered by its lock, the retained table's add is a compare-and-swap
/// (a full fence) before the removal. A claim that finds the key held in the dictionary looks at the retained table too
/// before it names the holder: the holder may be a claim that is about to find the key retained and back off.
/// </para>
/// <para>
/// The in-memory job store keeps the <see cref="Claim"/> a key's job won and marks it succeeded through it
/// (<see cref="MarkSucceeded(Claim, TimeSpan)"/>), without a lookup.
/// </para>
/// </remarks>
internal sealed class InMemoryIdempotencyStore(TimeProvider time)
{
    public const int MaxRetainedKeys = 1_000_000;

    /// <summary>
    /// How many retained claims may wait to be moved before a worker's success hands the moving to the thread pool: with
    /// no keyed enqueue to move them (a keyed backlog drained, then quiet), they would stay in the dictionary as objects
    /// the collector traces, past <see cref="MaxRetainedKeys"/> and their retention.
    /// </summary>
    internal const int MoveBehindLimit = 16_384;

    // How often (in successes) a worker looks at how many claims wait to be moved: a count of the queue is not free.
    private const int MoveCheckInterval = 1_024;

    private readonly ConcurrentDictionary<string, Claim> _live = new(StringComparer.Ordinal);
    private readonly RetainedKeys _retained = new(MaxRetainedKeys);

    // Claims retained in place, still to be moved to the retained table, oldest first (see MarkSucceeded).
    private readonly ConcurrentQueue<Claim> _toMove = new();

    // A key's expiry needs no better than the coarse clock: it is read once per keyed job on the hot path.
    private readonly CoarseClock _clock = new(time);

    private int _retainedSinceCheck;
    private int _moving;

    /// <summary>Gets the number of keys held: by jobs not yet succeeded, and retained.</summary>
    public int Count
    {
        get
        {
            MoveRetainedClaims(_toMove.Count);
            return _live.Count + _retained.Count;
        }
    }

    /// <summary>Gets how many keys of succeeded jobs are retained, the number bounded by <see cref="MaxRetainedKeys"/>.</summary>
    public int RetainedCount
    {
        get
        {
            MoveRetainedClaims(_toMove.Count);
            return _retained.Count;
        }
    }

    /// <summary>Gets how many retained claims wait to be moved to the retained table.</summary>
    internal int WaitingToMove => _toMove.Count;

    /// <summary>Claims <paramref name="key"/> for <paramref name="jobId"/>, or returns the claim that holds it.</summary>
    /// <returns>The claim holding the key: this job's when its <see cref="Claim.JobId"/> is <paramref name="jobId"/>.</returns>
    public Claim TryClaim(string key, JobId jobId)
    {
        // Two retained claims move to the retained table for each claim made: see MarkSucceeded for why here.
        MoveRetainedClaims(2);
        var hash = KeyHash.Of(key);
        var claim = new Claim(key, jobId, hash);
        while (true)
        {
            if (_live.TryAdd(key, claim))
            {
                return Won(claim);
            }

            if (!_live.TryGetValue(key, out var current))
            {
                continue;
            }

            if (current.Holds(_clock.UtcTicks(precise: false)))
            {
                return TryFindRetained(key, hash, out var retained) ? retained : current;
            }

            // A retained claim whose retention ended, or a released one not yet removed: the key is free.
            if (_live.TryUpdate(key, claim, current))
            {
                return Won(claim);
            }
        }
    }

    /// <summary>A claim that won the dictionary, unless the key is retained (see the remarks for why it must look after its add).</summary>
    private Claim Won(Claim claim)
    {
        if (!TryFindRetained(claim.Key, claim.Hash, out var retained))
        {
            return claim;
        }

        _live.TryRemove(new KeyValuePair<string, Claim>(claim.Key, claim));
        claim.Release();
        return retained;
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
        var now = _clock.UtcTicks(precise: false);
        var expiresAt = retention <= TimeSpan.Zero ? now : retention.Ticks >= long.MaxValue - now ? long.MaxValue : now + retention.Ticks;

        // A claim released already (its job was dead-lettered, then requeued) no longer holds its key.
        if (!claim.TryRetain(expiresAt))
        {
            return;
        }

        if (retention <= TimeSpan.Zero)
        {
            _live.TryRemove(new KeyValuePair<string, Claim>(claim.Key, claim));
            return;
        }

        // The claim, retained in place, holds its key in the dictionary until a later claim (TryClaim) moves it to the
        // retained table: moving it here cost the worker a lookup in a dictionary as large as the backlog (a million
        // claims: about 250 ns, a cache miss far out) and a probe of the retained table's index (about 120 ns), the
        // larger part of a keyed job's cost to the worker, and the worker is the full pipeline's bound.
        _toMove.Enqueue(claim);
        if (Interlocked.Increment(ref _retainedSinceCheck) % MoveCheckInterval == 0 && _toMove.Count > MoveBehindLimit)
        {
            MoveInBackground();
        }
    }

    /// <summary>
    /// Moves the claims waiting to be moved on the thread pool, once at a time: the claims to come may never move them
    /// (no keyed enqueue follows), and the worker must not (see <see cref="MarkSucceeded(Claim, TimeSpan)"/>).
    /// </summary>
    private void MoveInBackground()
    {
        if (Interlocked.CompareExchange(ref _moving, 1, 0) != 0)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            static store =>
            {
                do
                {
                    store.MoveRetainedClaims(store._toMove.Count);
                    Volatile.Write(ref store._moving, 0);
                }
                while (store._toMove.Count > MoveBehindLimit && Interlocked.CompareExchange(ref store._moving, 1, 0) == 0);
            },
            this,
            preferLocal: false);
    }

    /// <summary>Moves up to <paramref name="count"/> retained claims from the dictionary to the retained table, oldest first.</summary>
    /// <remarks>
    /// Each claim moves two, so the claims left wait for the claims to come: never more than were made before; past
    /// <see cref="MoveBehindLimit"/> the thread pool moves them (<see cref="MoveInBackground"/>). The key
    /// is added to the retained table before its dictionary entry is removed, so a claim racing for it finds it in one
    /// or the other (see the remarks above). A claim replaced since (its retention ended) is not removed: the
    /// conditional removal compares the claim.
    /// </remarks>
    private void MoveRetainedClaims(int count)
    {
        for (var i = 0; i < count && _toMove.TryDequeue(out var claim); i++)
        {
            var now = _clock.UtcTicks(precise: false);
            if (claim.ExpiresAtTicks > now)
            {
                _retained.Add(claim.Hash, claim.JobId, claim.ExpiresAtTicks, now);
            }

            _live.TryRemove(new KeyValuePair<string, Claim>(claim.Key, claim));
        }
    }

    public ValueTask ReleaseAsync(string key, JobId jobId, CancellationToken cancellationToken)
    {
        // A live claim only: a retained one whose entry is still to be removed keeps its key.
        if (_live.TryGetValue(key, out var current) && current.JobId == jobId && current.IsLive && _live.TryRemove(new KeyValuePair<string, Claim>(key, current)))
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
        private long _expiresAtTicks;

        public string Key { get; } = key;

        public JobId JobId { get; } = jobId;

        public KeyHash Hash { get; } = hash;

        public bool IsLive => Volatile.Read(ref _state) == Live;

        /// <summary>Moves a live claim to retained until <paramref name="expiresAtTicks"/>; false when it was retained or released already.</summary>
        public bool TryRetain(long expiresAtTicks)
        {
            // Written before the compare-and-swap (a full fence) that makes it visible as retained.
            _expiresAtTicks = expiresAtTicks;
            return Interlocked.CompareExchange(ref _state, Retained, Live) == Live;
        }

        public long ExpiresAtTicks => Volatile.Read(ref _expiresAtTicks);

        /// <summary>Whether the claim holds its key at <paramref name="nowTicks"/>: live, or retained and not expired.</summary>
        public bool Holds(long nowTicks) => Volatile.Read(ref _state) switch
        {
            Live => true,
            Retained => ExpiresAtTicks > nowTicks,
            _ => false,
        };

        /// <summary>Ends a live claim whose key was freed, so that it is never retained; false when it was not live.</summary>
        public bool Release() => Interlocked.CompareExchange(ref _state, Released, Live) == Live;
    }
}
