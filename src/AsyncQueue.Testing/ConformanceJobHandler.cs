namespace AsyncQueue.Testing;

/// <summary>A handler so the kind is registered; the suite drives the store directly and never runs it.</summary>
public sealed class ConformanceJobHandler : IJobHandler<ConformanceJob>
{
    /// <inheritdoc />
    public Task HandleAsync(ConformanceJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
