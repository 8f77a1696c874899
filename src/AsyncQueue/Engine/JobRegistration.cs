using System.Reflection;
using System.Runtime.CompilerServices;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Engine;

/// <summary>A job type as <c>AddHandler</c> declared it: its kind, its default queue and its handler. Added to DI.</summary>
internal abstract class JobHandlerDescriptor(Type jobType, Type handlerType, string queue)
{
    public Type JobType { get; } = jobType;

    public Type HandlerType { get; } = handlerType;

    public string Kind { get; } = KindOf(jobType);

    public string Queue { get; } = queue;

    public static string KindOf(Type jobType) => jobType.GetCustomAttribute<JobKindAttribute>()?.Kind ?? jobType.Name;

    /// <summary>The registration of one service provider, with the job type's options resolved.</summary>
    public abstract JobRegistration CreateRegistration(JobOptions options);
}

/// <summary>The typed descriptor, which knows how to build the typed registration.</summary>
internal sealed class JobHandlerDescriptor<TJob>(Type handlerType, string queue, bool scopePerJob) : JobHandlerDescriptor(typeof(TJob), handlerType, queue)
    where TJob : notnull
{
    public override JobRegistration CreateRegistration(JobOptions options) => new JobRegistration<TJob>(this, scopePerJob, options);
}

/// <summary>A job type known to a running queue: its descriptor, its options, and how to call its handler.</summary>
internal abstract class JobRegistration(JobHandlerDescriptor descriptor, JobOptions options)
{
    public Type JobType => descriptor.JobType;

    public string Kind => descriptor.Kind;

    public string Queue => descriptor.Queue;

    /// <summary>Gets the registry this registration belongs to (set once, when the registry is built).</summary>
    public JobRegistry? Registry { get; internal set; }

    /// <summary>Gets this registration's position in <see cref="JobRegistry.Registrations"/>: an index for per-registration tables.</summary>
    public int Index { get; internal set; } = -1;

    /// <summary>The job type's own retry policy, or <see langword="null"/> for its queue's.</summary>
    public IRetryPolicy? Retry { get; } = options.Retry;

    /// <summary>The job type's own attempt timeout, or <see langword="null"/> for its queue's.</summary>
    public TimeSpan? Timeout { get; } = options.Timeout;

    /// <summary>Resolves the handler and runs one attempt.</summary>
    public abstract ValueTask InvokeAsync(IServiceProvider services, JobRecord job, JobContext context, CancellationToken cancellationToken);
}

/// <summary>The typed registration: the cast to <typeparamref name="TJob"/> happens here, once per attempt.</summary>
internal sealed class JobRegistration<TJob>(JobHandlerDescriptor descriptor, bool scopePerJob, JobOptions options) : JobRegistration(descriptor, options)
    where TJob : notnull
{
    // A singleton handler is resolved once: a registration belongs to one service provider.
    private IJobHandler<TJob>? _singleton;

    // Likewise the scope factory: CreateAsyncScope on the provider looks it up in the provider's table on every call.
    private IServiceScopeFactory? _scopes;

    public override ValueTask InvokeAsync(IServiceProvider services, JobRecord job, JobContext context, CancellationToken cancellationToken)
    {
        if (scopePerJob)
        {
            return InvokeScopedAsync(_scopes ??= services.GetRequiredService<IServiceScopeFactory>(), job, context, cancellationToken);
        }

        // No state machine: the handler's own task is handed back, so a synchronous handler costs a call and a cast.
        var handler = _singleton ??= services.GetRequiredService<IJobHandler<TJob>>();
        return new ValueTask(handler.HandleAsync(Cast(job.Job), context, cancellationToken));
    }

    // The store hands back only records of this registration's kind, so the checked cast is redundant for classes.
    private static TJob Cast(object job) => typeof(TJob).IsValueType ? (TJob)job : Unsafe.As<object, TJob>(ref job);

    // Pooled state machines: a handler that completes asynchronously costs no allocation here in steady state.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask InvokeScopedAsync(IServiceScopeFactory scopes, JobRecord job, JobContext context, CancellationToken cancellationToken)
    {
        // try/finally rather than 'await using', which would box the AsyncServiceScope struct.
        var scope = scopes.CreateAsyncScope();
        try
        {
            var handler = scope.ServiceProvider.GetRequiredService<IJobHandler<TJob>>();
            await handler.HandleAsync(Cast(job.Job), context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }
}
