namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>A contender that can also enqueue many jobs at once, the way its library batches publishes.</summary>
public interface IBatchContender : IContender
{
    /// <summary>Gets the label the results name this contender by.</summary>
    string Label { get; }

    /// <summary>Enqueues <paramref name="jobs"/> with the library's batch publish (or, where it has none, its closest equivalent); returns once every one was accepted.</summary>
    Task EnqueueBatchAsync(IReadOnlyList<Job> jobs);
}
