using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.TestWorker;

/// <summary>A durable job of the crash test.</summary>
/// <param name="Number">Which of the test's jobs it is.</param>
[JobKind("durable-job")]
public sealed record DurableJob(int Number);

/// <summary>Handles durable jobs: records each run in the results file before the job is acknowledged.</summary>
internal sealed class DurableJobHandler(ResultsFile results, WorkSettings settings) : IJobHandler<DurableJob>
{
    public async Task HandleAsync(DurableJob job, JobContext context, CancellationToken cancellationToken)
    {
        // The side effect first, then more work before the acknowledgement: a kill in between leaves a job that was
        // handled but not acknowledged, which at-least-once delivery runs again.
        results.Append(job.Number, context.Attempt);
        if (job.Number == settings.Poison)
        {
            // SIGKILL to itself, every time it starts: a crash as abrupt as a native fault, with other jobs in flight.
            ChildHost.Marker($"poison {context.Attempt}");
            Process.GetCurrentProcess().Kill();
        }

        if (settings.Delay > TimeSpan.Zero)
        {
            await Task.Delay(settings.Delay, CancellationToken.None);
        }
    }
}

/// <summary>How the handler behaves: how long each job works, and which job, if any, is the poison that kills its process.</summary>
internal sealed record WorkSettings(TimeSpan Delay, int Poison = -1);

/// <summary>The results file: one line per handler run, written through to the operating system at once, so a SIGKILL loses none.</summary>
internal sealed class ResultsFile(string path) : IDisposable
{
    private readonly FileStream _file = new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
    private readonly Lock _gate = new();

    public void Append(int number, int attempt)
    {
        var line = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{number} {attempt}\n"));
        lock (_gate)
        {
            _file.Write(line);
            _file.Flush();
        }
    }

    public void Dispose() => _file.Dispose();
}

internal static class WorkCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var store = StoreChoice.From(args);
        using var results = new ResultsFile(args.Require("results"));
        var settings = new WorkSettings(TimeSpan.FromMilliseconds(args.Int("delay-ms", 2)), args.Int("poison", -1));
        var host = ChildHost.Build(
            store,
            queue => queue.AddHandler<DurableJob, DurableJobHandler>(q =>
            {
                q.MaxConcurrency = args.Int("concurrency", 4);
                q.Retry = AsyncQueue.Retry.RetryPolicy.Fixed(args.Int("retries", 5), TimeSpan.FromMilliseconds(args.Int("retry-ms", 100)));
            }),
            services => services.AddSingleton(results).AddSingleton(settings));

        var enqueue = args.Int("enqueue", 0);
        if (enqueue > 0)
        {
            // Enqueued before the workers start, in batches: every job is accepted before any runs.
            var jobs = host.Services.GetRequiredService<IJobQueue>();
            for (var start = 0; start < enqueue; start += 1_000)
            {
                await jobs.EnqueueBatchAsync(Enumerable.Range(start, Math.Min(1_000, enqueue - start)).Select(i => new DurableJob(i)));
            }

            ChildHost.Marker($"enqueued {enqueue}");
        }

        await ChildHost.RunUntilInputClosesAsync(host);
        return 0;
    }
}
