using System.Collections.Concurrent;

namespace AsyncQueue.PostgreSql.Tests;

/// <summary>A job that only records that it ran.</summary>
public sealed record WorkJob(int Number);

/// <summary>Counts every run of every job number, across the hosts that share it.</summary>
public sealed class RunRecorder
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _distinct;

    public RunRecorder(int expected) => Expected = expected;

    public int Expected { get; }

    public ConcurrentDictionary<int, int> Runs { get; } = new();

    public int Distinct => Volatile.Read(ref _distinct);

    public int Duplicates => Runs.Values.Sum(count => count - 1);

    public Task AllRan => _reached.Task;

    public void Record(int number)
    {
        if (Runs.AddOrUpdate(number, 1, static (_, count) => count + 1) == 1 && Interlocked.Increment(ref _distinct) == Expected)
        {
            _reached.TrySetResult();
        }
    }
}

public sealed class WorkHandler(RunRecorder recorder) : IJobHandler<WorkJob>
{
    public Task HandleAsync(WorkJob job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Record(job.Number);
        return Task.CompletedTask;
    }
}
