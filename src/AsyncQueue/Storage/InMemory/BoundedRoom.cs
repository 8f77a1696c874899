namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// Counts the jobs in a bounded queue and makes producers wait, or throw, when it is full.
/// </summary>
/// <remarks>
/// Lock-free: the count moves by compare-and-swap. A producer that must wait first raises
/// <see cref="_producersWaiting"/> (interlocked, a full fence), takes the current gate, and checks the count
/// again; a consumer first frees a slot (interlocked) and then reads the flag. As in <see cref="InMemoryQueue"/>,
/// one of the two sees the other's write, so a freed slot never goes unnoticed. The gate is swapped for a new one
/// before the old one is completed, so every producer waiting on the old gate wakes and tries again. Gates are
/// allocated only when a producer actually waits. Closing the room (the queue is stopping) sets a flag and then swaps
/// the gate the same way, so a waiting producer either wakes on the old gate or reads the flag after the new one.
/// </remarks>
internal sealed class BoundedRoom(string queue, int capacity, QueueFullMode fullMode)
{
    private TaskCompletionSource _gate = NewGate();
    private int _count;
    private int _producersWaiting;
    private volatile bool _closed;

    public QueueFullMode FullMode => fullMode;

    public void ReserveOrThrow(int slots)
    {
        ThrowIfNeverFits(slots);
        while (true)
        {
            var count = Volatile.Read(ref _count);
            if (count > capacity - slots)
            {
                throw new JobQueueFullException(queue, capacity);
            }

            if (Interlocked.CompareExchange(ref _count, count + slots, count) == count)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="slots"/> slots are free at once and takes them all: a batch goes in whole or not at
    /// all, and two batches never each hold part of the room while waiting for the rest.
    /// </summary>
    /// <exception cref="JobQueueStoppedException">The queue stopped first: no worker would ever free a slot.</exception>
    /// <exception cref="JobQueueFullException">More slots than the capacity: they would never be free at once.</exception>
    public async ValueTask WaitAndReserveAsync(int slots, CancellationToken cancellationToken)
    {
        ThrowIfNeverFits(slots);
        while (true)
        {
            // Checked before every try, so a producer woken by Close never takes a slot a last worker freed.
            ThrowIfClosed();
            if (TryReserve(slots))
            {
                return;
            }

            Interlocked.Exchange(ref _producersWaiting, 1);
            var gate = Volatile.Read(ref _gate);
            ThrowIfClosed();
            if (Volatile.Read(ref _count) <= capacity - slots)
            {
                continue;
            }

            await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Fails every producer waiting for a slot, now and later: the workers have stopped taking jobs.</summary>
    public void Close()
    {
        _closed = true;
        Interlocked.Exchange(ref _gate, NewGate()).TrySetResult();
    }

    /// <summary>Counts a job that must be accepted whatever the capacity (a retry or a delayed job falling due).</summary>
    public void Force(int slots) => Interlocked.Add(ref _count, slots);

    public void Release()
    {
        Interlocked.Decrement(ref _count);
        if (Volatile.Read(ref _producersWaiting) != 0 && Interlocked.Exchange(ref _producersWaiting, 0) != 0)
        {
            Interlocked.Exchange(ref _gate, NewGate()).TrySetResult();
        }
    }

    private bool TryReserve(int slots)
    {
        while (true)
        {
            var count = Volatile.Read(ref _count);
            if (count > capacity - slots)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, count + slots, count) == count)
            {
                return true;
            }
        }
    }

    private void ThrowIfNeverFits(int slots)
    {
        if (slots > capacity)
        {
            throw new JobQueueFullException(queue, capacity, slots);
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new JobQueueStoppedException();
        }
    }

    // Continuations run on the thread pool, never inline in the consumer that freed the slot.
    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
