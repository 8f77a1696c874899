using System.Diagnostics.CodeAnalysis;
using AsyncQueue.DeadLetter;
using AsyncQueue.DependencyInjection;
using AsyncQueue.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AsyncQueue;

/// <summary>Registers job handlers and configures queues on an <see cref="IJobQueueBuilder"/>.</summary>
public static class JobQueueBuilderExtensions
{
    /// <summary>
    /// Registers <typeparamref name="THandler"/> for jobs of type <typeparamref name="TJob"/>, on the job type's own
    /// queue, named after its kind (see <see cref="JobKindAttribute"/>), with the default queue settings.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="THandler">The handler, resolved from a fresh DI scope per job (scoped by default).</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The handler is registered as scoped unless <c>IJobHandler&lt;TJob&gt;</c> is already registered; register it as a
    /// singleton beforehand to skip the per-job scope for a stateless handler.
    /// </remarks>
    public static IJobQueueBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TJob, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IJobQueueBuilder builder)
        where TJob : notnull
        where THandler : class, IJobHandler<TJob> =>
        builder.AddHandler<TJob, THandler>(JobHandlerDescriptor.KindOf(typeof(TJob)), null);

    /// <summary>
    /// Registers <typeparamref name="THandler"/> for jobs of type <typeparamref name="TJob"/>, on the job type's own
    /// queue, named after its kind (see <see cref="JobKindAttribute"/>), and configures that queue.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="THandler">The handler, resolved from a fresh DI scope per job (scoped by default).</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configureQueue">Configures the queue, for example its <see cref="QueueOptions.MaxConcurrency"/>.</param>
    /// <returns>The builder.</returns>
    public static IJobQueueBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TJob, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IJobQueueBuilder builder, Action<QueueOptions> configureQueue)
        where TJob : notnull
        where THandler : class, IJobHandler<TJob> =>
        builder.AddHandler<TJob, THandler>(JobHandlerDescriptor.KindOf(typeof(TJob)), configureQueue);

    /// <summary>Registers <typeparamref name="THandler"/> for jobs of type <typeparamref name="TJob"/>, on the named queue.</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="THandler">The handler, resolved from a fresh DI scope per job (scoped by default).</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="queue">The queue the job type runs on unless an enqueue names another.</param>
    /// <param name="configureQueue">Configures the queue, for example its <see cref="QueueOptions.MaxConcurrency"/>.</param>
    /// <returns>The builder.</returns>
    public static IJobQueueBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TJob, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IJobQueueBuilder builder, string queue, Action<QueueOptions>? configureQueue = null)
        where TJob : notnull
        where THandler : class, IJobHandler<TJob>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        builder.DeclareQueue(queue, configureQueue ?? (static _ => { }), $"AddHandler<{typeof(TJob).Name}, {typeof(THandler).Name}>");

        var services = builder.Services;
        JobDescriber.Register<TJob>();
        services.TryAddScoped<IJobHandler<TJob>, THandler>();
        var lifetime = services.Last(d => d.ServiceType == typeof(IJobHandler<TJob>)).Lifetime;
        services.AddSingleton<JobHandlerDescriptor>(new JobHandlerDescriptor<TJob>(typeof(THandler), queue, scopePerJob: lifetime != ServiceLifetime.Singleton));
        return builder;
    }

    /// <summary>Declares a queue, so that it gets workers, and configures it. May be called several times for one queue.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="queue">The queue's name.</param>
    /// <param name="configure">Configures the queue.</param>
    /// <returns>The builder.</returns>
    public static IJobQueueBuilder ConfigureQueue(this IJobQueueBuilder builder, string queue, Action<QueueOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.DeclareQueue(queue, configure, $"ConfigureQueue(\"{queue}\")");
    }

    // The one place a queue is declared and configured; the call is remembered, so conflicting calls can be named at start.
    private static IJobQueueBuilder DeclareQueue(this IJobQueueBuilder builder, string queue, Action<QueueOptions> configure, string source)
    {
        builder.Services.AddSingleton(new QueueDeclaration(queue));
        builder.Services.AddSingleton(new QueueConfiguration(queue, configure, source));
        builder.Services.AddOptions<QueueOptions>(queue).Configure(configure).ValidateOnStart();
        return builder;
    }

    /// <summary>Configures one job type's settings, which override its queue's (retry policy, timeout).</summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the job type.</param>
    /// <returns>The builder.</returns>
    public static IJobQueueBuilder ConfigureJob<TJob>(this IJobQueueBuilder builder, Action<JobOptions> configure)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<JobOptions>(JobHandlerDescriptor.KindOf(typeof(TJob))).Configure(configure).ValidateOnStart();
        return builder;
    }
}
