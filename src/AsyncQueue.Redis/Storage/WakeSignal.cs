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

    /// <summary>Wakes the loop for a change of demand only (a worker waits, takes a job or settles one): no job became due.</summary>
    public void SetForDemand()
    {
        lock (_gate)
        {
            _signal.TrySetResult();
        }
    }

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
