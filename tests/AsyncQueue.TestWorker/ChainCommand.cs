using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.TestWorker;

/// <summary>A step of the continuation chain of the crash test.</summary>
/// <param name="Step">Its place in the chain, from 1.</param>
[JobKind("chain-job")]
public sealed record ChainJob(int Step);

/// <summary>Records each step's run, then either returns or, at the blocking step, waits to be killed.</summary>
internal sealed class ChainJobHandler(ResultsFile results, ChainSettings settings) : IJobHandler<ChainJob>
{
    public async Task HandleAsync(ChainJob job, JobContext context, CancellationToken cancellationToken)
    {
        results.Append(job.Step, context.Attempt);
        ChildHost.Marker($"started {job.Step} {context.Attempt}");
        if (job.Step == settings.BlockAt)
        {
            // Never acknowledged: the test kills the process here, after the previous step's success was committed.
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
        }
    }
}

/// <summary>Which step, if any, the handler never finishes.</summary>
internal sealed record ChainSettings(int BlockAt);

internal static class ChainCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var store = StoreChoice.From(args);
        using var results = new ResultsFile(args.Require("results"));
        var host = ChildHost.Build(
            store,
            queue => queue.AddHandler<ChainJob, ChainJobHandler>(q => q.MaxConcurrency = 1),
            services => services.AddSingleton(results).AddSingleton(new ChainSettings(args.Int("block-at", -1))));

        if (args.Flag("enqueue"))
        {
            // Enqueued before the workers start: steps 2 and 3 wait for their parents from the first.
            var jobs = host.Services.GetRequiredService<IJobQueue>();
            var first = (await jobs.EnqueueAsync(new ChainJob(1))).JobId;
            var second = (await jobs.ContinueWithAsync(first, new ChainJob(2))).JobId;
            var third = (await jobs.ContinueWithAsync(second, new ChainJob(3))).JobId;
            ChildHost.Marker($"enqueued {first} {second} {third}");
        }

        await ChildHost.RunUntilInputClosesAsync(host);
        return 0;
    }
}
