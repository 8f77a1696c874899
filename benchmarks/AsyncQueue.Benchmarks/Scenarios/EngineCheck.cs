using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--engine-check [WORKERS] [ROUNDS] [--no-wolverine]</c>: the in-memory engine's A/B check (issue 16). The steady
/// scenario for <c>Channel&lt;T&gt;</c>, the no-op engine, the full pipeline and Wolverine, taking turns in one process
/// in a rotating order; per contender the median (range) of jobs/s, of bytes allocated per job, and of thread-pool work
/// items per 1,000 jobs, which counts the workers' wake-ups (a parked reader or worker is resumed by one work item), so
/// a run whose readers park often is visible beside its figure.
/// </summary>
/// <remarks>
/// The full pipeline retains a key per job (at most 1,000,000): it is warmed up with 1,000,000 jobs, so every measured
/// round runs with its key store at that bound, where an application that keys every job spends its life.
/// </remarks>
internal static class EngineCheck
{
    private const int PipelineJobs = 500_000;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--engine-check");
        var positional = args.Skip(at + 1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var workers = positional.Length > 0 ? Cli.Int(positional[0], "--engine-check WORKERS") : 2;
        var rounds = positional.Length > 1 ? Cli.Int(positional[1], "--engine-check ROUNDS") : 9;
        ContenderKind[] kinds =
        [
            ContenderKind.ChannelUnbounded,
            ContenderKind.AsyncQueue,
            ContenderKind.AsyncQueuePipeline,
            .. args.Contains("--no-wolverine") ? [] : new[] { ContenderKind.Wolverine },
        ];

        var contenders = kinds.Select(kind => (Kind: kind, Contender: ContenderFactory.Create(kind, workers), Jobs: kind == ContenderKind.AsyncQueuePipeline ? PipelineJobs : JobCounts.For(kind))).ToArray();
        var samples = kinds.ToDictionary(kind => kind, _ => new List<Sample>());
        try
        {
            foreach (var (kind, contender, jobs) in contenders)
            {
                await contender.StartAsync();
                await Drive.SteadyAsync(contender, kind == ContenderKind.AsyncQueuePipeline ? 1_000_000 : jobs);
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < contenders.Length; i++)
                {
                    var (kind, contender, jobs) = contenders[(i + round) % contenders.Length];
                    var items = ThreadPool.CompletedWorkItemCount;
                    var result = await Measure.TimeAsync(jobs, () => Drive.SteadyAsync(contender, jobs));
                    var perThousand = (ThreadPool.CompletedWorkItemCount - items) * 1000.0 / jobs;
                    samples[kind].Add(new Sample(result.JobsPerSecond, result.BytesPerJob, perThousand));
                }
            }
        }
        finally
        {
            foreach (var (_, contender, _) in contenders)
            {
                await contender.DisposeAsync();
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"engine check: steady producer, {workers} worker(s), {rounds} interleaved rounds; median (min-max) per contender:"));
        foreach (var kind in kinds)
        {
            var s = samples[kind];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {ContenderFactory.Label(kind),-28} {Spread(s.Select(x => x.JobsPerSecond), "N0")} jobs/s  {Spread(s.Select(x => x.BytesPerJob), "F0")} B/job  {Spread(s.Select(x => x.WorkItemsPerThousand), "F1")} wake-ups/1,000 jobs"));
        }

        Ratio(output, samples, ContenderKind.AsyncQueue, ContenderKind.ChannelUnbounded);
        Ratio(output, samples, ContenderKind.AsyncQueuePipeline, ContenderKind.ChannelUnbounded);
        if (samples.ContainsKey(ContenderKind.Wolverine))
        {
            Ratio(output, samples, ContenderKind.AsyncQueuePipeline, ContenderKind.Wolverine);
        }

        return 0;
    }

    /// <summary>The median (range) over rounds of one contender's jobs/s divided by another's in the same round.</summary>
    private static void Ratio(TextWriter output, Dictionary<ContenderKind, List<Sample>> samples, ContenderKind of, ContenderKind to)
    {
        var ratios = samples[of].Select((s, round) => s.JobsPerSecond / samples[to][round].JobsPerSecond);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {ContenderFactory.Label(of)} / {ContenderFactory.Label(to)}: {Spread(ratios, "F2")}x"));
    }

    private static string Spread(IEnumerable<double> values, string format)
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"{median.ToString(format, CultureInfo.InvariantCulture)} ({sorted[0].ToString(format, CultureInfo.InvariantCulture)}-{sorted[^1].ToString(format, CultureInfo.InvariantCulture)})");
    }

    private readonly record struct Sample(double JobsPerSecond, double BytesPerJob, double WorkItemsPerThousand);
}
