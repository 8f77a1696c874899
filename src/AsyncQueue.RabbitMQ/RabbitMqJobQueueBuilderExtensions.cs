using System.Diagnostics.CodeAnalysis;
using AsyncQueue.RabbitMQ;
using AsyncQueue.RabbitMQ.DependencyInjection;
using AsyncQueue.RabbitMQ.Storage;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// UseRabbitMq() on IJobQueueBuilder sits beside AddJobQueue(), in the namespace applications already import.
#pragma warning disable IDE0130
namespace AsyncQueue;
#pragma warning restore IDE0130

/// <summary>Puts the job queue on RabbitMQ: <c>services.AddJobQueue().UseRabbitMq("amqp://guest:guest@localhost:5672")</c>.</summary>
public static class RabbitMqJobQueueBuilderExtensions
{
    internal const string SerializationMessage =
        "Job payloads are serialized with System.Text.Json over the registered job types. In a trimmed or native AOT app, set RabbitMqStoreOptions.SerializerOptions with a source-generated JsonSerializerContext that covers every job type.";

    /// <summary>
    /// Replaces the in-memory store with the RabbitMQ store: each queue is a durable quorum queue of the same name,
    /// every enqueue returns after the broker confirmed it, and retries wait in the broker. Its dead letters are the
    /// application's <see cref="IDeadLetterQueue"/>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddJobQueue()</c>.</param>
    /// <param name="uri">The broker's AMQP URI, for example <c>amqp://guest:guest@localhost:5672</c>.</param>
    /// <param name="configure">Adjusts the store's <see cref="RabbitMqStoreOptions"/>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The store connects when the host starts: an unreachable broker, refused credentials or a queue declared with
    /// other arguments fail the start with a message that names the setting. The transport cannot offer everything the
    /// other stores do: see the package README (no status or cancel by id, no idempotency keys, no pause).
    /// </remarks>
    [RequiresUnreferencedCode(SerializationMessage)]
    [RequiresDynamicCode(SerializationMessage)]
    public static IJobQueueBuilder UseRabbitMq(this IJobQueueBuilder builder, string uri, Action<RabbitMqStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(uri);
        var services = builder.Services;
        services.AddOptions<RabbitMqStoreOptions>()
            .Configure(options =>
            {
                options.Uri = uri;
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqStoreOptions>, RabbitMqStoreOptionsValidator>());
        services.TryAddSingleton<RabbitMqJobStore>();
        services.Replace(ServiceDescriptor.Singleton<IJobStore>(static sp => sp.GetRequiredService<RabbitMqJobStore>()));
        services.TryAddSingleton<IRabbitMqEventPublisher>(static sp => sp.GetRequiredService<RabbitMqJobStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RabbitMqStoreStartup>());
        return builder;
    }
}
