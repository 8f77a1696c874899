using System.Numerics;

namespace AsyncQueue.Idempotency;

/// <summary>
/// The keys of succeeded jobs, each kept until its expiry as a fixed-size entry (its <see cref="KeyHash"/>, its job's
/// id, its expiry) in arrays that hold no references, and dropped a generation at a time. Lock-free.
/// </summary>
/// <remarks>
/// <para>
/// Why: kept as objects (the key string, a dictionary node, a claim), a million retained keys are a million objects
/// that each young collection promotes and each full collection traces; the full pipeline's steady run spent about
/// half its time paused for the collector. Arrays of plain structs are allocated once per generation and never traced.
/// </para>
/// <para>
/// A generation is an entries array filled in order and an open-addressing index over it. An add reserves an entry
/// by an interlocked increment, writes it, then publishes it by a compare-and-swap of an empty index slot (a full
/// fence, so the entry's fields are written before any reader can reach it); an entry is never written again. A
/// lookup reads the slot with acquire semantics (<c>Volatile.Read</c>), then the entry.
/// </para>
/// <para>
/// When the newest generation is full, or all its keys expired, a new one replaces it by a compare-and-swap of the
/// generations array, which drops the generations whose keys all expired and, oldest first, those beyond the bound.
/// A superseded generation is closed first (no add reserves an entry in it any more), and dropped only once every add
/// that reserved an entry in it finished writing, so no add can land in a generation no longer searched.
/// </para>
/// </remarks>
internal sealed class RetainedKeys(int maxKeys)
{
    private const int FirstCapacity = 1024;
    private const int MaxCapacity = 1 << 18;

    // Oldest first. Replaced, never changed in place.
    private Generation[] _generations = [];

    /// <summary>Gets the number of keys kept (including expired ones not yet dropped with their generation).</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var generation in Volatile.Read(ref _generations))
            {
                count += generation.Count;
            }

            return count;
        }
    }

    /// <summary>Finds the holder of <paramref name="hash"/> among the keys that have not expired at <paramref name="nowTicks"/>.</summary>
    public bool TryFind(KeyHash hash, long nowTicks, out JobId holder)
    {
        var generations = Volatile.Read(ref _generations);
        for (var i = generations.Length - 1; i >= 0; i--)
        {
            var generation = generations[i];
            if (generation.LatestExpiry > nowTicks && generation.TryFind(hash, nowTicks, out holder))
            {
                return true;
            }
        }

        holder = default;
        return false;
    }

    /// <summary>Keeps <paramref name="hash"/> as held by <paramref name="holder"/> until <paramref name="expiresAtTicks"/>.</summary>
    public void Add(KeyHash hash, JobId holder, long expiresAtTicks, long nowTicks)
    {
        while (true)
        {
            var generations = Volatile.Read(ref _generations);
            var newest = generations.Length > 0 ? generations[^1] : null;
            if (newest is not null && !newest.AllExpired(nowTicks) && newest.TryAdd(hash, holder, expiresAtTicks))
            {
                return;
            }

            Replace(generations, newest, nowTicks);
        }
    }

    /// <summary>Adds a new generation and drops the ones no longer needed; a lost race leaves that to the winner.</summary>
    private void Replace(Generation[] current, Generation? newest, long nowTicks)
    {
        var capacity = FirstCapacity;
        if (newest is not null)
        {
            newest.Close();
            capacity = newest.Full ? Math.Min(MaxCapacity, newest.Capacity * 2) : newest.Capacity;
        }

        // Another add replaced the generations meanwhile: its new generation serves this add too, and a second one
        // (up to a few megabytes of arrays) would only be garbage once the compare-and-swap below lost.
        if (!ReferenceEquals(Volatile.Read(ref _generations), current))
        {
            return;
        }

        // At most a quarter of the bound, so that an eviction drops at most a quarter of the keys.
        capacity = Math.Max(1, Math.Min(capacity, maxKeys / 4));
        var kept = new List<Generation>(current.Length + 1);
        var total = capacity;
        var overBound = false;
        for (var i = current.Length - 1; i >= 0; i--)
        {
            // Newest first; once one does not fit within the bound, every older one goes (oldest evicted first). A
            // generation still being written to stays, whatever its age: it goes at a later replacement.
            var generation = current[i];
            overBound |= total + generation.Count > maxKeys;
            if (generation.Settled && (overBound || generation.AllExpired(nowTicks)))
            {
                continue;
            }

            total += generation.Count;
            kept.Add(generation);
        }

        kept.Reverse();
        kept.Add(new Generation(capacity));
        Interlocked.CompareExchange(ref _generations, [.. kept], current);
    }

    private readonly record struct Entry(KeyHash Hash, JobId Holder, long ExpiresAtTicks);

    private sealed class Generation
    {
        // Far above any count of entries, so that an add after the close never gets an index within the capacity.
        private const int Closed = int.MaxValue / 2;

        private readonly Entry[] _entries;

        // Index slot: the high 32 bits of the hash's low half, then the entry's index + 1; 0 is empty. Twice as many
        // slots as entries, so a probe finds an empty slot soon.
        private readonly long[] _slots;
        private readonly int _mask;

        // A blocked Bloom filter over the generation's keys, about one byte per entry (a 250,000-entry generation's is
        // 256 KB against its index's 4 MB), so that a lookup of a key the generation does not hold, the common case,
        // reads one word likely in cache instead of a slot of the index far out of it: a keyed enqueue looks in every
        // generation. A key sets three bits in one word; the filter can only say "maybe", never a false "no".
        private readonly long[] _filter;
        private readonly int _filterMask;
        private int _reserved;
        private int _written;
        private int _writers = -1;
        private long _latestExpiry;

        public Generation(int capacity)
        {
            _entries = new Entry[capacity];
            _slots = new long[(int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2)];
            _mask = _slots.Length - 1;
            _filter = new long[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, capacity / 8))];
            _filterMask = _filter.Length - 1;
        }

        public int Capacity => _entries.Length;

        public int Count => Volatile.Read(ref _written);

        public long LatestExpiry => Volatile.Read(ref _latestExpiry);

        /// <summary>Gets a value indicating whether the generation was closed with every entry reserved.</summary>
        public bool Full => Volatile.Read(ref _writers) >= _entries.Length;

        /// <summary>Gets a value indicating whether the generation is closed and every add that reserved an entry in it has finished.</summary>
        public bool Settled => Volatile.Read(ref _writers) is var writers and >= 0 && Volatile.Read(ref _written) == writers;

        public bool AllExpired(long nowTicks) => Count > 0 && LatestExpiry <= nowTicks;

        public bool TryAdd(KeyHash hash, JobId holder, long expiresAtTicks)
        {
            var index = Interlocked.Increment(ref _reserved) - 1;
            if (index >= _entries.Length)
            {
                return false;
            }

            _entries[index] = new Entry(hash, holder, expiresAtTicks);
            long latest;
            while ((latest = Volatile.Read(ref _latestExpiry)) < expiresAtTicks && Interlocked.CompareExchange(ref _latestExpiry, expiresAtTicks, latest) != latest)
            {
            }

            // The filter's bits before the slot: a reader that finds the slot published passed the filter. Interlocked,
            // so that two adds to one word keep both their bits.
            Interlocked.Or(ref _filter[FilterWord(hash)], FilterBits(hash));

            // Published by a compare-and-swap (a full fence): the entry above is written before a reader can find it.
            var packed = (long)(hash.Low & 0xffffffff00000000UL) | (uint)(index + 1);
            var slot = (int)hash.Low & _mask;
            while (Interlocked.CompareExchange(ref _slots[slot], packed, 0) != 0)
            {
                slot = (slot + 1) & _mask;
            }

            Interlocked.Increment(ref _written);
            return true;
        }

        public bool TryFind(KeyHash hash, long nowTicks, out JobId holder)
        {
            var bits = FilterBits(hash);
            if ((Volatile.Read(ref _filter[FilterWord(hash)]) & bits) != bits)
            {
                holder = default;
                return false;
            }

            var fingerprint = (long)(hash.Low & 0xffffffff00000000UL);
            for (var slot = (int)hash.Low & _mask; ; slot = (slot + 1) & _mask)
            {
                // Acquire: the entry read below cannot move before it, so it is the one published with the slot.
                var packed = Volatile.Read(ref _slots[slot]);
                if (packed == 0)
                {
                    holder = default;
                    return false;
                }

                if ((packed & unchecked((long)0xffffffff00000000UL)) == fingerprint)
                {
                    ref readonly var entry = ref _entries[(int)(uint)packed - 1];
                    if (entry.Hash == hash && entry.ExpiresAtTicks > nowTicks)
                    {
                        holder = entry.Holder;
                        return true;
                    }
                }
            }
        }

        // From the hash's high half: the index's slot and fingerprint come from the low half, so the two are independent.
        private int FilterWord(KeyHash hash) => (int)hash.High & _filterMask;

        private static long FilterBits(KeyHash hash) =>
            (1L << (int)(hash.High >> 32)) | (1L << (int)(hash.High >> 38)) | (1L << (int)(hash.High >> 44));

        /// <summary>Stops new adds; records how many reserved an entry before, so <see cref="Settled"/> can tell when they are done.</summary>
        public void Close()
        {
            while (true)
            {
                var reserved = Volatile.Read(ref _reserved);
                if (reserved >= Closed)
                {
                    return;
                }

                if (Interlocked.CompareExchange(ref _reserved, Closed, reserved) == reserved)
                {
                    Volatile.Write(ref _writers, Math.Min(reserved, _entries.Length));
                    return;
                }
            }
        }
    }
}
