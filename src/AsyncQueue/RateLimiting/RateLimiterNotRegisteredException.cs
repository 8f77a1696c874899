namespace AsyncQueue.RateLimiting;

/// <summary>
/// Thrown at start when a queue has a <see cref="QueueOptions.RateLimit"/> that this process must enforce (a limit per
/// key, or a store without <see cref="Storage.JobStoreCapabilities.SharedRateLimits"/>) and no rate limiter is registered.
/// </summary>
public sealed class RateLimiterNotRegisteredException : InvalidOperationException
{
    /// <summary>Initializes a new instance for the given queue.</summary>
    /// <param name="queue">The queue whose limit nothing enforces.</param>
    public RateLimiterNotRegisteredException(string queue)
        : base($"Queue '{queue}' has a QueueOptions.RateLimit that this process must enforce (its store does not share rate limits, or the limit is per key), and no rate limiter is registered. Add the AsyncQueue.RateLimiting package and call services.AddJobQueue().UseRateLimiting().")
    {
        Queue = queue;
    }

    /// <summary>Gets the queue whose limit nothing enforces.</summary>
    public string Queue { get; }
}
