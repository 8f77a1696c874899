using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--interleave [WORKERS] [ROUNDS] [--no-peers]</c>: the steady scenario for AsyncQueue (with and without the full
/// pipeline), <c>Channel&lt;T&gt;</c> and the peers, taking turns in one process, round after round, in a rotating order.
/// Prints each contender's median throughput and the median, over the rounds, of its ratio to <c>Channel&lt;T&gt;</c>
/// in the same round.
/// </summary>
/// <remarks>
/// Why: BenchmarkDotNet runs each benchmark in its own process, one after another, so on a machine whose speed drifts
/// (a shared VM) a ratio carries the drift between two processes minutes apart. Here the contenders being compared run
/// seconds apart, again and again, and the median ratio is taken over rounds.
/// </remarks>
internal static class Interleaved
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--interleave");
        var positional = args.Skip(at + 1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var workers = positional.Length > 0 ? Cli.Int(positional[0], "--interleave WORKERS") : 2;
        var rounds = positional.Length > 1 ? Cli.Int(positional[1], "--interleave ROUNDS") : 7;
        ContenderKind[] kinds =
        [
            ContenderKind.ChannelUnbounded,
            ContenderKind.AsyncQueue,
            ContenderKind.AsyncQueuePipeline,
            .. args.Contains("--no-peers") ? [] : ContenderFactory.Peers,
        ];

        var contenders = kinds.Select(kind => (Kind: kind, Contender: ContenderFactory.Create(kind, workers), Jobs: JobCounts.For(kind))).ToArray();
        var rates = kinds.ToDictionary(kind => kind, _ => new List<double>());
        try
        {
            foreach (var (_, contender, jobs) in contenders)
            {
                await contender.StartAsync();
                await Drive.SteadyAsync(contender, jobs);
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < contenders.Length; i++)
                {
                    // A rotating order: no contender always runs first, or right after the same neighbour.
                    var (kind, contender, jobs) = contenders[(i + round) % contenders.Length];
                    var result = await Measure.TimeAsync(jobs, () => Drive.SteadyAsync(contender, jobs));
                    rates[kind].Add(result.JobsPerSecond);
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

        var channel = rates[ContenderKind.ChannelUnbounded];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"steady producer, {workers} worker(s), {rounds} interleaved rounds; median jobs/s, and the median (range) over rounds of the ratio to Channel<T> in the same round:"));
        foreach (var kind in kinds)
        {
            var ratios = rates[kind].Select((rate, round) => rate / channel[round]).Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {ContenderFactory.Label(kind),-32} {Median(rates[kind]),14:N0} jobs/s  {QuickRun.Ratio(Median(ratios)),8} ({QuickRun.Ratio(ratios[0])} to {QuickRun.Ratio(ratios[^1])})"));
        }

        var engine = rates[ContenderKind.AsyncQueue];
        var others = kinds.Where(kind => kind is not ContenderKind.AsyncQueue and not ContenderKind.ChannelUnbounded).ToArray();
        output.WriteLine("  AsyncQueue against each, the median (range) over rounds of AsyncQueue's jobs/s divided by theirs in the same round:");
        foreach (var kind in others)
        {
            var ratios = engine.Select((rate, round) => rate / rates[kind][round]).Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {ContenderFactory.Label(kind),-32} {Median(ratios),10:N1}x ({ratios[0]:N1}x to {ratios[^1]:N1}x)"));
        }

        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
