namespace AsyncQueue.Benchmarks;

/// <summary>
/// The no-op work: count the job done. AsyncQueue resolves it as a singleton (the pure engine) or scoped (a DI scope
/// per job, the full pipeline); the raw baselines call the very same instance.
/// </summary>
public sealed class NoOpHandler(Completion completion) : IJobHandler<Job>
{
    /// <inheritdoc />
    public Task HandleAsync(Job job, JobContext context, CancellationToken cancellationToken)
    {
        completion.Signal(job);
        return Task.CompletedTask;
    }
}
