namespace AsyncQueue.Redis.Storage;

/// <summary>
/// Wakes one loop: <see cref="Set"/> from any thread; the loop awaits <see cref="Task"/>, calls <see cref="Reset"/>, then
/// works. A set that comes before the reset is covered by the work that follows it, and one that comes after completes
/// the next task, so no wake-up is lost (the lost-wake-up race of a plain flag checked before waiting).
/// </summary>
internal sealed class WakeSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _generation;

    // The generation at which the loop found nothing more to lease (-1: none): while the generation stays there, a change
    // of demand cannot make the loop lease anything, so SetForDemand does not wake it.
    private long _drainedAt = -1;

    /// <summary>
    /// Gets how many times <see cref="Set"/> was called: read before a fetch, it tells the loop afterwards whether anything
    /// that may have made a job due came meanwhile. Raised before the wake-up completes, so a loop that wakes reads it new.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

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

    /// <summary>Wakes the loop for something that may have made a job due (an enqueue, a wake-up from the channel, a retry, a resume...).</summary>
    public void Set()
    {
        Interlocked.Increment(ref _generation);
        SetForDemand();
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

        lock (_gate)
        {
            _signal.TrySetResult();
        }
    }

    /// <summary>
    /// Marks the loop drained at <paramref name="generation"/> (read before its lease, which found fewer due jobs than it
    /// asked for): until the next <see cref="Set"/>, changes of demand do not wake it. A set that came during the lease
    /// has moved the generation on already, so the mark does not hold.
    /// </summary>
    public void SleepDrained(long generation) => Interlocked.Exchange(ref _drainedAt, generation);

    /// <summary>Clears the drained mark before the loop reads the demand and leases: changes of demand wake it again.</summary>
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
}
