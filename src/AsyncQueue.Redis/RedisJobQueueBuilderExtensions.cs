using System.Diagnostics.CodeAnalysis;
using AsyncQueue.Redis;
using AsyncQueue.Redis.DependencyInjection;
using AsyncQueue.Redis.Storage;
using AsyncQueue.Storage.Durable;

// UseRedis() on IJobQueueBuilder sits beside AddJobQueue(), in the namespace applications already import.
#pragma warning disable IDE0130
namespace AsyncQueue;
#pragma warning restore IDE0130

/// <summary>Puts the job queue on Redis: <c>services.AddJobQueue().UseRedis("localhost:6379")</c>.</summary>
public static class RedisJobQueueBuilderExtensions
{
    internal const string SerializationMessage =
        "Job payloads are serialized with System.Text.Json over the registered job types. In a trimmed or native AOT app, set RedisStoreOptions.SerializerOptions with a source-generated JsonSerializerContext that covers every job type.";

    /// <summary>
    /// Replaces the in-memory store with the Redis store: every accepted job, retry, delayed job, idempotency key and
    /// dead letter is kept in Redis, shared by every process that uses the same server and <see cref="RedisStoreOptions.KeyPrefix"/>.
    /// Its dead letters are the application's <see cref="IDeadLetterQueue"/>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddJobQueue()</c>.</param>
    /// <param name="configuration">The server, as a StackExchange.Redis configuration string, for example <c>localhost:6379</c> or <c>redis:6379,password=secret</c>.</param>
    /// <param name="configure">Adjusts the store's <see cref="RedisStoreOptions"/> (key prefix, leases, polling).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The store connects when the host starts: an unreachable server, a refused password or a server older than
    /// Redis 6.2 fails the start with a message that names the endpoint. It reads the server's persistence settings and
    /// logs a warning when a crash of Redis can lose accepted jobs (see the package README).
    /// </remarks>
    [RequiresUnreferencedCode(SerializationMessage)]
    [RequiresDynamicCode(SerializationMessage)]
    public static IJobQueueBuilder UseRedis(this IJobQueueBuilder builder, string configuration, Action<RedisStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        DurableStoreRegistration.AddStore<RedisStoreOptions, RedisStoreOptionsValidator, RedisJobStore>(
            builder.Services, configuration, static (options, value) => options.Configuration = value, configure);
        return builder;
    }
}
