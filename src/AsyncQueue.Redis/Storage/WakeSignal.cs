namespace AsyncQueue.Redis.Storage;

/// <summary>
/// Wakes one loop: <see cref="Set"/> from any thread; the loop awaits <see cref="Task"/>, calls <see cref="Reset"/>, then
/// works. A set that comes before the reset is covered by the work that follows it, and one that comes after completes
/// the next task, so no wake-up is lost (the lost-wake-up race of a plain flag checked before waiting).
/// </summary>
/// <remarks>
/// A fetch loop whose lease found fewer due jobs than it asked for sleeps drained (<see cref="SleepDrained"/>): then a
/// change of demand (<see cref="SetForDemand"/>) cannot make it lease anything, nor can an enqueue of this process that
/// the lease already covered (<see cref="SetEnqueued"/>), so neither wakes it. An enqueue is covered when its sequence
/// number (the queue's <c>B:seq</c> after the enqueue script) is at most what the loop read before its lease
/// (<see cref="Enqueued"/>: that enqueue's script had run before the lease was sent) or at most the sequence the lease
/// script found when it emptied the ready set (that enqueue's script ran before the lease's, so its jobs were leased).
/// </remarks>
internal sealed class WakeSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _generation;
    private long _enqueued;

    // The generation at which the loop sleeps drained (-1: it does not), and the highest enqueue sequence its lease
    // covered: while the generation stays there, a change of demand or a covered enqueue does not wake it.
    private long _drainedAt = -1;
    private long _drainedEnqueued = -1;

    /// <summary>
    /// Gets how many times <see cref="Set"/> was called: read before a fetch, it tells the loop afterwards whether anything
    /// that may have made a job due came meanwhile. Raised before the wake-up completes, so a loop that wakes reads it new.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Gets the highest sequence number of this process's enqueues (<see cref="SetEnqueued"/>); raised before the wake-up completes.</summary>
    public long Enqueued => Interlocked.Read(ref _enqueued);

    public Task Task
    {
        get
        {
            lock (_gate)
            {
                return _signal.Task;
            }
        }
    }

    /// <summary>Wakes the loop for something that may have made a job due (a wake-up from the channel, a retry, a resume...).</summary>
    public void Set()
    {
        Interlocked.Increment(ref _generation);
        Wake();
    }

    /// <summary>
    /// Wakes the loop for this process's enqueue, whose script left the queue's sequence at <paramref name="sequence"/>;
    /// not while the loop sleeps drained with a lease that covered it.
    /// </summary>
    public void SetEnqueued(long sequence)
    {
        var seen = Interlocked.Read(ref _enqueued);
        if (sequence < seen)
        {
            // The sequence went back (Redis lost it: a restart without persistence, a flush, a failover to a replica that
            // lagged), or two enqueues' replies came here out of order: what a drained lease covered cannot be told from
            // it, so start counting from here and wake the loop as for a job that may be due.
            Interlocked.Exchange(ref _enqueued, sequence);
            Set();
            return;
        }

        while (sequence > seen)
        {
            var found = Interlocked.CompareExchange(ref _enqueued, sequence, seen);
            if (found == seen)
            {
                break;
            }

            seen = found;
        }

        if (Interlocked.Read(ref _drainedAt) == Interlocked.Read(ref _generation) && sequence <= Interlocked.Read(ref _drainedEnqueued))
        {
            return;
        }

        Wake();
    }

    /// <summary>
    /// Wakes the loop for a change of demand only (a worker waits, takes a job or settles one): no job became due. Does
    /// nothing while the loop sleeps drained (<see cref="SleepDrained"/>) and no <see cref="Set"/> came since.
    /// </summary>
    /// <remarks>
    /// The caller changed the demand (an interlocked count) before this call reads the drained mark, and the loop clears
    /// the mark (<see cref="LeaseAgain"/>, interlocked) before it reads the demand: with a full fence on both sides, either
    /// this call sees the mark cleared and wakes the loop, or the loop's reading of the demand sees the change.
    /// </remarks>
    public void SetForDemand()
    {
        if (Interlocked.Read(ref _drainedAt) == Interlocked.Read(ref _generation))
        {
            return;
        }

        Wake();
    }

    /// <summary>
    /// Marks the loop drained at <paramref name="generation"/> (read before its lease, which found fewer due jobs than it
    /// asked for), its lease covering this process's enqueues up to <paramref name="enqueued"/>: until the next
    /// <see cref="Set"/> or a later enqueue, nothing wakes it. A set that came during the lease has moved the generation
    /// on already, so the mark does not hold.
    /// </summary>
    public void SleepDrained(long generation, long enqueued)
    {
        Interlocked.Exchange(ref _drainedEnqueued, enqueued);
        Interlocked.Exchange(ref _drainedAt, generation);
    }

    /// <summary>
    /// Whether the loop still sleeps drained: no <see cref="Set"/> since the lease it read <paramref name="generation"/>
    /// before, and no enqueue of this process past what that lease covered (<paramref name="enqueued"/>, read now).
    /// </summary>
    public bool StillDrained(long generation, long enqueued) =>
        Interlocked.Read(ref _drainedAt) == generation && enqueued <= Interlocked.Read(ref _drainedEnqueued);

    /// <summary>Clears the drained mark before the loop reads the demand and leases: changes of demand and enqueues wake it again.</summary>
    public void LeaseAgain() => Interlocked.Exchange(ref _drainedAt, -1);

    public void Reset()
    {
        lock (_gate)
        {
            if (_signal.Task.IsCompleted)
            {
                _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private void Wake()
    {
        lock (_gate)
        {
            _signal.TrySetResult();
        }
    }
}
