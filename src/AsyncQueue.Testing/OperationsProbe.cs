using System.Collections.Concurrent;

namespace AsyncQueue.Testing;

/// <summary>What the operations suite's handlers did, in the order they did it: one per process (a DI singleton).</summary>
public sealed class OperationsProbe
{
    private readonly ConcurrentQueue<int> _started = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _startedSignals = new();

    /// <summary>Gets the numbers of the jobs whose handler started, in the order they started.</summary>
    public IReadOnlyList<int> Started => [.. _started];

    /// <summary>Gets how many handlers were cancelled through their token.</summary>
    public int Cancelled => _cancelled;

    private int _cancelled;

    /// <summary>Completes when the handler of job <paramref name="number"/> has started.</summary>
    /// <param name="number">The job's number.</param>
    /// <returns>The task.</returns>
    public Task WhenStarted(int number) => Signal(number).Task;

    internal void OnStarted(int number)
    {
        _started.Enqueue(number);
        Signal(number).TrySetResult();
    }

    internal void OnCancelled() => Interlocked.Increment(ref _cancelled);

    private TaskCompletionSource Signal(int number) => _startedSignals.GetOrAdd(number, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
