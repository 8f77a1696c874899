using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.TestWorker;

/// <summary>A job that runs until it is cancelled: the test cancels it from its own process.</summary>
[JobKind("cancellable-job")]
public sealed record CancellableJob(int Number);

internal sealed class CancellableJobHandler : IJobHandler<CancellableJob>
{
    public async Task HandleAsync(CancellableJob job, JobContext context, CancellationToken cancellationToken)
    {
        ChildHost.Marker($"started {context.JobId} {context.Attempt}");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            ChildHost.Marker($"cancelled {context.JobId}");
            throw;
        }
    }
}

internal static class CancelCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var host = ChildHost.Build(StoreChoice.From(args), queue => queue.AddHandler<CancellableJob, CancellableJobHandler>(q => q.MaxConcurrency = 1));
        if (args.Flag("enqueue"))
        {
            var result = await host.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new CancellableJob(1));
            ChildHost.Marker($"enqueued {result.JobId}");
        }

        await ChildHost.RunUntilInputClosesAsync(host);
        return 0;
    }
}
