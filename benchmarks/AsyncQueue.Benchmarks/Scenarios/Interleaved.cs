using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--interleave [--rounds N] [--workers N] [--no-peers] [--part memory|durable] [--without PART,...]</c> (or the older
/// <c>--interleave WORKERS ROUNDS</c>): the headline comparison. The steady scenario for <c>Channel&lt;T&gt;</c>, the
/// engine (no-op singleton handler), the full pipeline and the peers, at 1 and 2 workers, then the durable stores at
/// their defaults (<see cref="DurableInterleaved"/>); the contenders take turns in one process, round after round, in
/// an order that changes every round. Prints markdown tables: each contender's median jobs/s with its range, the
/// ratios of the medians, and its wake-ups per 1,000 jobs.
/// </summary>
/// <remarks>
/// Why: BenchmarkDotNet runs each benchmark in its own process, one after another, so on a machine whose speed drifts
/// (a shared VM) a ratio carries the drift between two processes minutes apart. Here the contenders run seconds
/// apart, again and again, and the medians are of the same rounds. The wake-ups are printed beside each figure
/// because a queue whose workers rarely park runs far faster than one whose workers park and wake often, for
/// <c>Channel&lt;T&gt;</c> as for the engine: a run decided by its wake-up pattern shows as such.
/// </remarks>
internal static class Interleaved
{
    private const int DefaultRounds = 7;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--interleave");
        var positional = args.Skip(at + 1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        int[] workerCounts = Cli.Option(args, "--workers") is { } workers ? [Cli.Int(workers, "--workers")]
            : positional.Length > 0 ? [Cli.Int(positional[0], "--interleave WORKERS")]
            : [1, 2];
        var rounds = Cli.Option(args, "--rounds") is { } roundCount ? Cli.Int(roundCount, "--rounds")
            : positional.Length > 1 ? Cli.Int(positional[1], "--interleave ROUNDS")
            : DefaultRounds;
        var part = Cli.Option(args, "--part") is { } named ? Cli.Scenario(named, "--part", "memory", "durable") : null;
        var peers = !args.Contains("--no-peers");

        // The full pipeline and its ceiling without some of their parts, to see what bounds the ceiling: --without idempotency.
        FullPipeline.ReadWithout(args);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"AsyncQueue benchmarks, interleaved: {rounds} rounds, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}; `{string.Join(' ', args)}`."));
        if (part is null or "memory")
        {
            foreach (var count in workerCounts)
            {
                await InMemoryAsync(count, rounds, peers, output);
            }
        }

        if (part is null or "durable")
        {
            await DurableInterleaved.RunAsync(rounds, output);
        }

        return 0;
    }

    /// <summary>Runs <paramref name="turns"/> after <paramref name="warmUps"/> unmeasured runs each, for <paramref name="rounds"/> rounds.</summary>
    /// <returns>Each turn's samples, and why a turn stopped early (or <see langword="null"/>), in the order of <paramref name="turns"/>.</returns>
    /// <remarks>
    /// A turn that throws (a contender stuck past <see cref="Drive.Patience"/>, a peer's error) is recorded as failed and
    /// leaves the rest of the run: its contender's state is unknown then (a late job would count towards its next
    /// round), and one peer's trouble must not cost the other contenders their figures. The tables print the rounds it
    /// finished and where it failed.
    /// </remarks>
    internal static async Task<Results> RunRoundsAsync(IReadOnlyList<Turn> turns, int rounds, int warmUps)
    {
        var failures = new string?[turns.Count];
        for (var run = 0; run < warmUps; run++)
        {
            for (var i = 0; i < turns.Count; i++)
            {
                if (failures[i] is null)
                {
                    failures[i] = await FailureOfAsync(turns[i], turns[i].RunAsync, $"warm-up run {run + 1}");
                }
            }
        }

        var samples = turns.Select(_ => new List<Sample>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < turns.Count; i++)
            {
                // A different first contender every round, and every other round the reverse order, so no contender
                // always runs first or always right after the same neighbour.
                var shifted = (i + round) % turns.Count;
                var index = round % 2 == 0 ? shifted : turns.Count - 1 - shifted;
                var turn = turns[index];
                if (failures[index] is not null)
                {
                    continue;
                }

                var parks = turn.Parks?.Invoke() ?? 0;
                Measure.Result? result = null;
                failures[index] = await FailureOfAsync(turn, async () => result = await Measure.TimeAsync(turn.Jobs, turn.RunAsync), $"round {round + 1}");
                if (result is { } measured)
                {
                    double? parksPerThousand = turn.Parks is { } read ? (read() - parks) * 1000.0 / turn.Jobs : null;
                    samples[index].Add(new Sample(measured.JobsPerSecond, measured.WakeUpsPerThousandJobs, measured.BytesPerJob, parksPerThousand));
                }
            }
        }

        return new Results(samples, failures);
    }

    private static async Task<string?> FailureOfAsync(Turn turn, Func<Task> run, string when)
    {
        try
        {
            await run();
            return null;
        }
#pragma warning disable CA1031 // Whatever a contender throws ends its turns, not the run; the tables say what it was.
        catch (Exception e)
#pragma warning restore CA1031
        {
            var failure = $"failed in {when}: {e.GetType().Name}: {e.Message}";
            await Console.Error.WriteLineAsync($"{turn.Label}: {failure}; it runs no more rounds.");
            return failure;
        }
    }

    /// <summary>The median, or <see cref="double.NaN"/> for no values (a contender that failed before its first round).</summary>
    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>"1,234,567 (1,000,000-2,000,000)": the median jobs/s and the range over the rounds.</summary>
    internal static string Rate(List<Sample> samples) => samples.Count == 0 ? "no round | " : string.Create(
        CultureInfo.InvariantCulture,
        $"{Median(samples.Select(s => s.JobsPerSecond)):N0} | {samples.Min(s => s.JobsPerSecond):N0}-{samples.Max(s => s.JobsPerSecond):N0}");

    /// <summary>The median wake-ups per 1,000 jobs and their range.</summary>
    internal static string WakeUps(IEnumerable<double> perThousand)
    {
        var values = perThousand.ToArray();
        if (values.Length == 0)
        {
            return string.Empty;
        }

        return $"{Small(Median(values))} ({Small(values.Min())}-{Small(values.Max())})";

        static string Small(double value) => value.ToString(value < 10 ? "0.00" : "N1", CultureInfo.InvariantCulture);
    }

    private static async Task InMemoryAsync(int workers, int rounds, bool peers, TextWriter output)
    {
        ContenderKind[] kinds =
        [
            ContenderKind.ChannelUnbounded,
            ContenderKind.AsyncQueue,
            ContenderKind.AsyncQueuePipeline,
            ContenderKind.PipelineCeiling,
            .. peers ? ContenderFactory.Peers : [],
        ];
        var contenders = kinds.Select(kind => ContenderFactory.Create(kind, workers)).ToArray();
        Results results;
        try
        {
            foreach (var contender in contenders)
            {
                await contender.StartAsync();
            }

            var turns = kinds.Select((kind, i) =>
            {
                var contender = contenders[i];
                var jobs = JobCounts.For(kind);
                return new Turn(ContenderFactory.Label(kind), jobs, () => Drive.SteadyAsync(contender, jobs), contender is ChannelContender channel ? () => channel.Parks : null);
            }).ToArray();

            // Two warm-up runs each: the engine's and the peers' methods reach optimized code before the first round.
            results = await RunRoundsAsync(turns, rounds, warmUps: 2);
        }
        finally
        {
            foreach (var contender in contenders)
            {
                await contender.DisposeAsync();
            }
        }

        var samples = results.Samples;
        var median = kinds.Select((_, i) => Median(samples[i].Select(s => s.JobsPerSecond))).ToArray();
        var channel = median[Array.IndexOf(kinds, ContenderKind.ChannelUnbounded)];
        var engine = median[Array.IndexOf(kinds, ContenderKind.AsyncQueue)];
        var pipeline = median[Array.IndexOf(kinds, ContenderKind.AsyncQueuePipeline)];
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Steady producer, {workers} worker{(workers == 1 ? string.Empty : "s")}, {rounds} interleaved rounds:"));
        output.WriteLine();
        output.WriteLine("| contender | jobs/s, median | min-max | x Channel<T> | AsyncQueue / it | full pipeline / it | wake-ups (thread-pool work items) per 1,000 jobs, median (min-max) | allocated B/job |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < kinds.Length; i++)
        {
            var peer = ContenderFactory.Peers.Contains(kinds[i]);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {ContenderFactory.Label(kinds[i])} | {Rate(samples[i])} | {QuickRun.Ratio(median[i] / channel)} | {(peer ? Times(engine / median[i]) : string.Empty)} | {(peer ? Times(pipeline / median[i]) : string.Empty)} | {WakeUps(samples[i].Select(s => s.WakeUpsPerThousandJobs))} | {Median(samples[i].Select(s => s.BytesPerJob)):N0} |"));
        }

        var parks = samples[Array.IndexOf(kinds, ContenderKind.ChannelUnbounded)].Select(s => s.ParksPerThousandJobs ?? 0);
        output.WriteLine();
        output.WriteLine($"Channel<T>'s reader parks per 1,000 jobs, counted in its read loop: {WakeUps(parks)} (each park ends in one of the wake-ups above).");
        var ceiling = median[Array.IndexOf(kinds, ContenderKind.PipelineCeiling)];
        var wolverine = Array.IndexOf(kinds, ContenderKind.Wolverine) is var w and >= 0 ? median[w] : double.NaN;
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"The full pipeline's ceiling (its features hand-built on Channel<T>, a ceiling, not a peer): {(double.IsNaN(wolverine) ? "no Wolverine in this run" : $"{Times(ceiling / wolverine)} {ContenderFactory.Label(ContenderKind.Wolverine)} (issue 16's target for the full pipeline: 5x)")}; full pipeline / ceiling: {pipeline / ceiling:0.00}x."));
        results.WriteFailures(kinds.Select(ContenderFactory.Label).ToArray(), rounds, output);
    }

    private static string Times(double ratio) => ratio.ToString("N1", CultureInfo.InvariantCulture) + "x";

    /// <summary>One contender's turn in a round: <paramref name="RunAsync"/> runs <paramref name="Jobs"/> jobs to the last handler.</summary>
    /// <param name="Parks">Reads a count of parked workers, where the contender keeps one.</param>
    internal sealed record Turn(string Label, int Jobs, Func<Task> RunAsync, Func<long>? Parks = null);

    /// <summary>What <see cref="RunRoundsAsync"/> measured: each turn's samples and why a turn stopped early, in the order of its turns.</summary>
    internal sealed record Results(List<Sample>[] Samples, string?[] Failures)
    {
        /// <summary>Prints, below a table, each contender that stopped early, how many rounds it finished and why.</summary>
        public void WriteFailures(IReadOnlyList<string> labels, int rounds, TextWriter output)
        {
            for (var i = 0; i < labels.Count; i++)
            {
                if (Failures[i] is { } failure)
                {
                    output.WriteLine();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"**{labels[i]}: {Samples[i].Count} of {rounds} rounds.** It {failure}"));
                }
            }
        }
    }

    /// <summary>One measured run of one contender.</summary>
    internal readonly record struct Sample(double JobsPerSecond, double WakeUpsPerThousandJobs, double BytesPerJob, double? ParksPerThousandJobs);
}
