using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.TestWorker;

/// <summary>A job whose handler takes its process down: the test kills the process each time the job starts.</summary>
[JobKind("poison-job")]
public sealed record PoisonJob(string Name);

internal sealed class PoisonJobHandler : IJobHandler<PoisonJob>
{
    public async Task HandleAsync(PoisonJob job, JobContext context, CancellationToken cancellationToken)
    {
        ChildHost.Marker($"started {context.Attempt}");

        // Never returns: the process is killed while it runs.
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
    }
}

internal sealed class PrintingDeadLetterObserver : IDeadLetterObserver
{
    public ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
    {
        ChildHost.Marker($"dead-lettered {entry.JobId} {entry.Attempts}");
        return default;
    }
}

internal static class PoisonCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var host = ChildHost.Build(
            StoreChoice.From(args),
            queue => queue.AddHandler<PoisonJob, PoisonJobHandler>(q => q.MaxConcurrency = 1),
            services => services.AddSingleton<IDeadLetterObserver, PrintingDeadLetterObserver>());
        if (args.Flag("enqueue"))
        {
            var result = await host.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new PoisonJob("crashes its process"), new EnqueueOptions { MaxAttempts = args.Int("max-attempts", 3) });
            ChildHost.Marker($"enqueued {result.JobId}");
        }

        await ChildHost.RunUntilInputClosesAsync(host);
        return 0;
    }
}
