namespace AsyncQueue.RabbitMQ.Tests;

/// <summary>The job the RabbitMQ tests enqueue; <see cref="FailTimes"/> makes its handler throw on the first attempts.</summary>
[JobKind("rabbit-test")]
public sealed record TestJob(int Number, int FailTimes = 0);

/// <summary>Records each run in <see cref="TestRuns"/> and fails the job's first <see cref="TestJob.FailTimes"/> attempts.</summary>
public sealed class TestJobHandler(TestRuns runs) : IJobHandler<TestJob>
{
    public Task HandleAsync(TestJob job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Add(job.Number, context.Attempt);
        return context.Attempt <= job.FailTimes
            ? throw new InvalidOperationException($"attempt {context.Attempt} of job {job.Number} fails on purpose")
            : Task.CompletedTask;
    }
}

/// <summary>Every run of every job, by number: the attempts it ran as.</summary>
public sealed class TestRuns
{
    private readonly Dictionary<int, List<int>> _runs = [];

    public void Add(int number, int attempt)
    {
        lock (_runs)
        {
            if (!_runs.TryGetValue(number, out var attempts))
            {
                _runs[number] = attempts = [];
            }

            attempts.Add(attempt);
        }
    }

    public Dictionary<int, List<int>> Snapshot()
    {
        lock (_runs)
        {
            return _runs.ToDictionary(r => r.Key, r => r.Value.ToList());
        }
    }
}
