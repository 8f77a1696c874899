using AsyncQueue.Engine;

namespace AsyncQueue.Idempotency;

/// <summary>
/// The in-memory store's idempotency keys, in <see cref="Stripes"/> independent stripes chosen by the key's hash. A
/// claim takes its stripe's lock, so of any number of racing enqueues with one key exactly one wins. Keys of succeeded
/// jobs are kept for their retention, at most <see cref="MaxRetainedKeys"/> of them (an equal share per stripe),
/// oldest of a stripe evicted first; keys of waiting and running jobs are bounded by the jobs themselves.
/// </summary>
/// <remarks>
/// <para>
/// Why not a <c>ConcurrentDictionary&lt;string, Claim&gt;</c> (the previous design): with a key per job and up to a
/// million retained, its node, the claim and the key string were three objects per key that lived for the retention,
/// so the garbage collector copied every one of them into older generations, and the dictionary's growth rehashed a
/// million nodes at once. Here nothing per key outlives its job: a live claim is a <see cref="Dictionary{TKey, TValue}"/>
/// entry (a struct in the stripe's array) holding the string its job's record holds anyway, and a retained key is
/// copied into its stripe's <see cref="RetainedKeys"/>, flat arrays of structs and characters that a sweep empties
/// from the oldest end.
/// </para>
/// <para>
/// Why a lock per stripe rather than lock-free: a claim must check the live and the retained keys and add one as a
/// single step, and a stripe's lock is held for a hash probe or two, never while user code or a continuation runs.
/// With <see cref="Stripes"/> stripes the producer and the workers rarely meet on one, and a stripe that grows
/// rehashes only its own share.
/// </para>
/// </remarks>
internal sealed class InMemoryIdempotencyStore(TimeProvider time)
{
    public const int MaxRetainedKeys = 1_000_000;

    /// <summary>The number of stripes, a power of two.</summary>
    public const int Stripes = 64;

    private const int StripeShift = 32 - 6;
    private const int MaxRetainedPerStripe = MaxRetainedKeys / Stripes;

    private readonly Stripe[] _stripes = CreateStripes();

    // A succeeded key's expiry needs no better than the coarse clock: it is read once per job on the hot path.
    private readonly CoarseClock _clock = new(time);
    private long _nextFullSweepTicks;

    /// <summary>Gets how many keys are held: claimed by waiting or running jobs, or retained.</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var stripe in _stripes)
            {
                lock (stripe.Gate)
                {
                    count += stripe.Live.Count + stripe.Retained.Count;
                }
            }

            return count;
        }
    }

    /// <summary>Gets how many keys of succeeded jobs are retained, the number bounded by <see cref="MaxRetainedKeys"/>.</summary>
    public int RetainedCount
    {
        get
        {
            var count = 0;
            foreach (var stripe in _stripes)
            {
                lock (stripe.Gate)
                {
                    count += stripe.Retained.Count;
                }
            }

            return count;
        }
    }

    /// <summary>Claims <paramref name="key"/> for <paramref name="jobId"/>, or returns the job that holds it.</summary>
    /// <returns>The job holding the key: <paramref name="jobId"/> when this claim won.</returns>
    public JobId TryClaim(string key, JobId jobId)
    {
        var hash = key.GetHashCode(StringComparison.Ordinal);
        var stripe = StripeOf(hash);
        lock (stripe.Gate)
        {
            if (stripe.Live.TryGetValue(key, out var holder))
            {
                return holder;
            }

            // A retained key refuses its duplicates until it expires; the clock is read only when one is found.
            if (stripe.Retained.TryFind(key, hash, out holder, out var expiresAtTicks) && expiresAtTicks > _clock.UtcTicks(precise: false))
            {
                return holder;
            }

            stripe.Live.Add(key, jobId);
            return jobId;
        }
    }

    public ValueTask MarkSucceededAsync(string key, JobId jobId, TimeSpan retention, CancellationToken cancellationToken)
    {
        MarkSucceeded(key, jobId, retention);
        return default;
    }

    /// <summary>Keeps the key of a succeeded job for <paramref name="retention"/>, if the job still holds it.</summary>
    /// <remarks>
    /// A key released meanwhile (its job was dead-lettered, then requeued) is not held by it any more: its success
    /// retains nothing, so the bound counts only keys that refuse duplicates.
    /// </remarks>
    public void MarkSucceeded(string key, JobId jobId, TimeSpan retention)
    {
        var now = _clock.UtcTicks(precise: false);
        var hash = key.GetHashCode(StringComparison.Ordinal);
        var stripe = StripeOf(hash);
        lock (stripe.Gate)
        {
            if (!stripe.Live.TryGetValue(key, out var holder) || holder != jobId)
            {
                return;
            }

            stripe.Live.Remove(key);
            var expiresAtTicks = retention.Ticks >= long.MaxValue - now ? long.MaxValue : now + retention.Ticks;
            stripe.Retained.Add(key, hash, jobId, expiresAtTicks);
            stripe.Retained.Evict(now, MaxRetainedPerStripe);
        }

        SweepAllIfDue(now);
    }

    public ValueTask ReleaseAsync(string key, JobId jobId, CancellationToken cancellationToken)
    {
        Release(key, jobId);
        return default;
    }

    /// <summary>Frees <paramref name="key"/> if <paramref name="jobId"/> holds it.</summary>
    public void Release(string key, JobId jobId)
    {
        var stripe = StripeOf(key.GetHashCode(StringComparison.Ordinal));
        lock (stripe.Gate)
        {
            if (stripe.Live.TryGetValue(key, out var holder) && holder == jobId)
            {
                stripe.Live.Remove(key);
            }
        }
    }

    private static Stripe[] CreateStripes()
    {
        var stripes = new Stripe[Stripes];
        for (var i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new Stripe();
        }

        return stripes;
    }

    // The hash's top bits choose the stripe; the retained keys' index probes from its low bits.
    private Stripe StripeOf(int hash) => _stripes[(uint)hash >> StripeShift];

    /// <summary>
    /// Expiry by generation: each success evicts its own stripe's expired keys, and once a second (by the coarse clock)
    /// every stripe is swept, so a stripe that sees no more successes still frees its keys.
    /// </summary>
    private void SweepAllIfDue(long now)
    {
        var due = Volatile.Read(ref _nextFullSweepTicks);
        if (now < due || Interlocked.CompareExchange(ref _nextFullSweepTicks, now + TimeSpan.TicksPerSecond, due) != due)
        {
            return;
        }

        foreach (var stripe in _stripes)
        {
            lock (stripe.Gate)
            {
                stripe.Retained.Evict(now, MaxRetainedPerStripe);
            }
        }
    }

    /// <summary>One stripe: its lock, the keys its waiting and running jobs hold, and its retained keys.</summary>
    private sealed class Stripe
    {
        public Lock Gate { get; } = new();

        public Dictionary<string, JobId> Live { get; } = new(StringComparer.Ordinal);

        public RetainedKeys Retained { get; } = new();
    }
}
