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

    public void Set()
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
