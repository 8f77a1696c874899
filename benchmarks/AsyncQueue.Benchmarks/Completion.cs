using System.Diagnostics;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// How every contender tells the benchmark that its jobs are done: the no-op handler counts down, and the last job
/// completes a task. The same mechanism in every contender, so that the comparison is fair.
/// </summary>
public sealed class Completion
{
    private TaskCompletionSource _done = NewSource();
    private long[]? _latencies;
    private int _remaining;

    /// <summary>Expects <paramref name="jobs"/> more jobs; optionally records each job's hand-off latency in <paramref name="latencies"/>.</summary>
    /// <returns>A task that completes when the last of them has been handled.</returns>
    public Task Expect(int jobs, long[]? latencies = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(jobs);
        var done = NewSource();
        _done = done;
        _latencies = latencies;
        Volatile.Write(ref _remaining, jobs);
        return done.Task;
    }

    /// <summary>Called by a handler as the first thing it does.</summary>
    public void Signal(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        Signal(job.Index, job.EnqueuedAt);
    }

    /// <summary>Called by a handler whose peer hands it the job's fields rather than the job (Hangfire).</summary>
    public void Signal(int index, long enqueuedAt)
    {
        if (_latencies is { } latencies)
        {
            latencies[index] = Stopwatch.GetTimestamp() - enqueuedAt;
        }

        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    // The benchmark thread must not run on the worker that handled the last job.
    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
