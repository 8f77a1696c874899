using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.TestWorker;

/// <summary>A job of the poison-among-many test: most just work; the poison one kills its process each time it starts.</summary>
/// <param name="Number">Which of the test's jobs it is.</param>
/// <param name="Poison">Whether its handler kills the process.</param>
[JobKind("mixed-job")]
public sealed record MixedJob(int Number, bool Poison);

/// <summary>Records each start in the results file (before anything else), then works, or, for the poison job, dies.</summary>
internal sealed class MixedJobHandler(ResultsFile results, WorkSettings settings) : IJobHandler<MixedJob>
{
    public async Task HandleAsync(MixedJob job, JobContext context, CancellationToken cancellationToken)
    {
        results.Append(job.Number, context.Attempt);
        if (job.Poison)
        {
            // SIGKILL to itself: a crash as abrupt as a native fault, with the other workers' jobs in flight.
            ChildHost.Marker($"poison {context.Attempt}");
            Process.GetCurrentProcess().Kill();
        }

        await Task.Delay(settings.Delay, CancellationToken.None);
    }
}

internal static class MixedCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var store = StoreChoice.From(args);
        using var results = new ResultsFile(args.Require("results"));
        var settings = new WorkSettings(TimeSpan.FromMilliseconds(args.Int("delay-ms", 20)));
        var host = ChildHost.Build(
            store,
            queue => queue.AddHandler<MixedJob, MixedJobHandler>(q =>
            {
                q.MaxConcurrency = args.Int("concurrency", 4);
                q.Retry = AsyncQueue.Retry.RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(200));
            }),
            services => services.AddSingleton(results).AddSingleton(settings));

        var enqueue = args.Int("enqueue", 0);
        if (enqueue > 0)
        {
            // Enqueued before the workers start, in one batch: every job is accepted before any runs.
            var poison = args.Int("poison", -1);
            await host.Services.GetRequiredService<IJobQueue>().EnqueueBatchAsync(Enumerable.Range(0, enqueue).Select(i => new MixedJob(i, i == poison)));
            ChildHost.Marker($"enqueued {enqueue}");
        }

        await ChildHost.RunUntilInputClosesAsync(host);
        return 0;
    }
}
