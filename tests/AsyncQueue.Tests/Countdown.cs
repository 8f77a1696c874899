namespace AsyncQueue.Tests;

/// <summary>Completes a task when it has been signalled a given number of times.</summary>
public sealed class Countdown(int count)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining = count;

    /// <summary>Gets how many signals are still awaited.</summary>
    public int Remaining => Volatile.Read(ref _remaining);

    public void Signal()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.SetResult();
        }
    }

    /// <summary>Waits for the count to reach zero; the long limit only turns a hang into a failure, it times nothing.</summary>
    public Task WaitAsync() => _done.Task.WaitAsync(TimeSpan.FromMinutes(2));
}
