namespace AsyncQueue.Redis.Tests.Crash;

/// <summary>The test worker's job (its kind and payload match tests/AsyncQueue.TestWorker), enqueued by the tests.</summary>
/// <param name="Number">Which of the test's jobs it is.</param>
[JobKind("durable-job")]
public sealed record DurableJob(int Number);

/// <summary>Registered only so that the test process may enqueue <see cref="DurableJob"/>s: its workers never start, the child processes run the jobs.</summary>
public sealed class EnqueueOnlyHandler : IJobHandler<DurableJob>
{
    public Task HandleAsync(DurableJob job, JobContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The test process only enqueues durable jobs; the worker processes run them.");
}
