using AsyncQueue;
using AsyncQueue.DeadLetter;
using AsyncQueue.DependencyInjection;
using AsyncQueue.Diagnostics;
using AsyncQueue.Engine;
using AsyncQueue.Idempotency;
using AsyncQueue.Monitoring;
using AsyncQueue.Hosting;
using AsyncQueue.Storage;
using AsyncQueue.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// AddJobQueue sits beside AddLogging and AddOptions, in the namespace every application already imports.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the job queue in a service collection.</summary>
public static class JobQueueServiceCollectionExtensions
{
    /// <summary>
    /// Adds the job queue with the in-memory store and hosted workers. Calling it again is harmless and returns
    /// a builder over the same registration.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to register handlers and configure queues and stores.</returns>
    public static IJobQueueBuilder AddJobQueue(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<JobRegistry>();
        services.TryAddSingleton<IJobKindRegistry>(static sp => sp.GetRequiredService<JobRegistry>());
        services.TryAddSingleton<JobQueueMetrics>();
        services.TryAddSingleton<InMemoryIdempotencyStore>();
        services.TryAddSingleton<IJobStore, InMemoryJobStore>();
        services.TryAddSingleton<DeadLetterTargets>();

        // The store's dead letters through the contract; a store package replaces IJobStore and this follows.
        services.TryAddSingleton<IDeadLetterQueue, DeadLetterQueue>();
        services.TryAddSingleton<JobCancellations>();
        services.TryAddSingleton<JobDispatcher>();
        services.TryAddSingleton<JobQueueMonitor>();
        services.TryAddSingleton<IJobQueueMonitor>(static sp => sp.GetRequiredService<JobQueueMonitor>());
        services.TryAddSingleton<JobQueueClient>();
        services.TryAddSingleton<IJobQueue>(static sp => sp.GetRequiredService<JobQueueClient>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, JobQueueHostedService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueueOptions>, QueueOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueueOptions>, QueueConfigurationConflictValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobOptions>, JobOptionsValidator>());
        return new JobQueueBuilder(services);
    }
}
