namespace AsyncQueue.Idempotency;

/// <summary>
/// One stripe's keys of succeeded jobs, oldest first: a ring of fixed-size entries, a ring of the keys' characters,
/// and an open-addressing index from a key's hash to its newest entry. Not thread-safe: its stripe's lock guards it.
/// </summary>
/// <remarks>
/// <para>
/// Why this shape: a retained key must cost the garbage collector nothing for its retention, so it is copied into
/// arrays of structs and characters (no object per key, no reference to the caller's string) that grow by doubling
/// and are reused as keys come and go. A hash is only a hint: a hit is confirmed by comparing the stored characters
/// with the key, so two keys with one hash never stand for each other and a distinct job is never refused.
/// </para>
/// <para>
/// Entries are numbered by a position that only grows; the ring holds positions <see cref="_head"/> to
/// <see cref="_tail"/>. Eviction, oldest first, only moves <see cref="_head"/>: an index slot naming an evicted
/// position is stale and is skipped by a lookup and reused by an insert, so eviction never touches the index.
/// A key retained again (after its earlier retention expired and a new job succeeded with it) repoints its slot at
/// the newer entry; the older one stays in the ring, unreachable, until eviction reaches it.
/// </para>
/// </remarks>
internal sealed class RetainedKeys
{
    private Entry[] _entries = new Entry[16];
    private char[] _chars = new char[256];
    private Slot[] _index = new Slot[32];
    private long _head;
    private long _tail;
    private long _charHead;
    private long _charTail;

    // Slots ever filled (stale ones included): the index is rebuilt before they pass half of it.
    private int _indexUsed;

    /// <summary>Gets how many entries the ring holds: the retained keys (plus any superseded, until evicted).</summary>
    public int Count => (int)(_tail - _head);

    /// <summary>Finds the newest entry of <paramref name="key"/>.</summary>
    public bool TryFind(string key, int hash, out JobId holder, out long expiresAtTicks)
    {
        var mask = _index.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            ref var slot = ref _index[i];
            if (slot.Position == 0)
            {
                holder = default;
                expiresAtTicks = 0;
                return false;
            }

            if (slot.Hash == hash && slot.Position - 1 >= _head && Matches(slot.Position - 1, key))
            {
                ref var entry = ref EntryAt(slot.Position - 1);
                holder = entry.Holder;
                expiresAtTicks = entry.ExpiresAtTicks;
                return true;
            }
        }
    }

    /// <summary>Retains <paramref name="key"/> as the newest entry.</summary>
    public void Add(string key, int hash, JobId holder, long expiresAtTicks)
    {
        if (_tail - _head == _entries.Length)
        {
            _entries = Grow(_entries, _head, _tail);
        }

        if (_charTail - _charHead + key.Length > _chars.Length)
        {
            _chars = Grow(_chars, _charHead, _charTail, _charTail - _charHead + key.Length);
        }

        var position = _tail++;
        var start = _charTail;
        CopyIn(key, start);
        _charTail += key.Length;
        EntryAt(position) = new Entry(start, key.Length, holder, expiresAtTicks);

        if ((_indexUsed + 1) * 2 > _index.Length)
        {
            Rebuild();
        }

        Index(key, hash, position);
    }

    /// <summary>Evicts from the oldest end the entries that expired by <paramref name="nowTicks"/>, or that exceed <paramref name="max"/>.</summary>
    public void Evict(long nowTicks, int max)
    {
        while (_head < _tail && (EntryAt(_head).ExpiresAtTicks <= nowTicks || _tail - _head > max))
        {
            ref var oldest = ref EntryAt(_head);
            _charHead = oldest.CharStart + oldest.Length;
            oldest = default;
            _head++;
        }

        if (_head == _tail)
        {
            _charHead = _charTail;
        }
    }

    private static T[] Grow<T>(T[] ring, long head, long tail, long atLeast = 0)
    {
        var length = ring.Length * 2;
        while (length < atLeast)
        {
            length *= 2;
        }

        // The same positions, masked by the larger length.
        var grown = new T[length];
        for (var position = head; position < tail; position++)
        {
            grown[position & (length - 1)] = ring[position & (ring.Length - 1)];
        }

        return grown;
    }

    private ref Entry EntryAt(long position) => ref _entries[position & (_entries.Length - 1)];

    private void CopyIn(string key, long start)
    {
        var at = (int)(start & (_chars.Length - 1));
        var first = Math.Min(key.Length, _chars.Length - at);
        key.AsSpan(0, first).CopyTo(_chars.AsSpan(at));
        key.AsSpan(first).CopyTo(_chars);
    }

    private bool Matches(long position, string key)
    {
        ref var entry = ref EntryAt(position);
        if (entry.Length != key.Length)
        {
            return false;
        }

        var at = (int)(entry.CharStart & (_chars.Length - 1));
        var first = Math.Min(key.Length, _chars.Length - at);
        return key.AsSpan(0, first).SequenceEqual(_chars.AsSpan(at, first)) && key.AsSpan(first).SequenceEqual(_chars.AsSpan(0, key.Length - first));
    }

    /// <summary>Points the key's slot at <paramref name="position"/>: its own slot if it has one, else the first free or stale one.</summary>
    private void Index(string key, int hash, long position)
    {
        var mask = _index.Length - 1;
        var free = -1;
        int i;
        for (i = hash & mask; _index[i].Position != 0; i = (i + 1) & mask)
        {
            ref var slot = ref _index[i];
            if (slot.Position - 1 < _head)
            {
                free = free < 0 ? i : free;
            }
            else if (slot.Hash == hash && slot.Position - 1 != position && Matches(slot.Position - 1, key))
            {
                slot.Position = position + 1;
                return;
            }
        }

        if (free < 0)
        {
            free = i;
            _indexUsed++;
        }

        _index[free] = new Slot(hash, position + 1);
    }

    /// <summary>Reinserts the live slots into an index at least four times their number: stale slots are dropped.</summary>
    private void Rebuild()
    {
        var old = _index;
        var length = 32;
        while (length < Count * 4)
        {
            length *= 2;
        }

        _index = new Slot[length];
        _indexUsed = 0;
        var mask = length - 1;
        foreach (var slot in old)
        {
            if (slot.Position != 0 && slot.Position - 1 >= _head)
            {
                var i = slot.Hash & mask;
                while (_index[i].Position != 0)
                {
                    i = (i + 1) & mask;
                }

                _index[i] = slot;
                _indexUsed++;
            }
        }
    }

    /// <summary>A retained key: where its characters are, the job that held it, and when it is free again.</summary>
    private readonly record struct Entry(long CharStart, int Length, JobId Holder, long ExpiresAtTicks);

    /// <summary>An index slot: the key's hash and its entry's position plus one (0: never used).</summary>
    private record struct Slot(int Hash, long Position);
}
