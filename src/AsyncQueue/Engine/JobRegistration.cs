using System.Reflection;
using System.Runtime.CompilerServices;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Engine;

/// <summary>A job type known to the queue: its kind, its default queue and how to call its handler.</summary>
internal abstract class JobRegistration(Type jobType, Type handlerType, string queue)
{
    public Type JobType { get; } = jobType;

    public Type HandlerType { get; } = handlerType;

    public string Kind { get; } = KindOf(jobType);

    public string Queue { get; } = queue;

    public static string KindOf(Type jobType) => jobType.GetCustomAttribute<JobKindAttribute>()?.Kind ?? jobType.Name;

    /// <summary>Resolves the handler and runs one attempt.</summary>
    public abstract ValueTask InvokeAsync(IServiceProvider services, JobRecord job, JobContext context, CancellationToken cancellationToken);
}

/// <summary>The typed registration: the cast to <typeparamref name="TJob"/> happens here, once per attempt.</summary>
internal sealed class JobRegistration<TJob>(Type handlerType, string queue, bool scopePerJob) : JobRegistration(typeof(TJob), handlerType, queue)
    where TJob : notnull
{
    // Pooled state machines: a handler that completes asynchronously costs no allocation here in steady state.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask InvokeAsync(IServiceProvider services, JobRecord job, JobContext context, CancellationToken cancellationToken)
    {
        if (!scopePerJob)
        {
            await services.GetRequiredService<IJobHandler<TJob>>().HandleAsync((TJob)job.Job, context, cancellationToken).ConfigureAwait(false);
            return;
        }

        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = scope.ServiceProvider.GetRequiredService<IJobHandler<TJob>>();
            await handler.HandleAsync((TJob)job.Job, context, cancellationToken).ConfigureAwait(false);
        }
    }
}
