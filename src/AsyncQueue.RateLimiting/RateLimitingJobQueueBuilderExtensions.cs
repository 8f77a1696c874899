using AsyncQueue.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

// UseRateLimiting sits beside AddHandler and UseSqlite, on the builder every application already has in scope.
#pragma warning disable IDE0130
namespace AsyncQueue;
#pragma warning restore IDE0130

/// <summary>Registers the in-process rate limiter on an <see cref="IJobQueueBuilder"/>.</summary>
public static class RateLimitingJobQueueBuilderExtensions
{
    /// <summary>
    /// Enforces each queue's <see cref="QueueOptions.RateLimit"/> in this process, with the fixed-window limiters of
    /// System.Threading.RateLimiting on the queue's <see cref="TimeProvider"/>: every limit on a store without
    /// <see cref="Storage.JobStoreCapabilities.SharedRateLimits"/> (the in-memory store), and every limit per key on any
    /// store. A queue-wide limit on a store with that capability is counted by the store, across processes, instead.
    /// Calling it twice is harmless.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IJobQueueBuilder UseRateLimiting(this IJobQueueBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<IJobStartGateFactory, FixedWindowStartGateFactory>();
        return builder;
    }
}
