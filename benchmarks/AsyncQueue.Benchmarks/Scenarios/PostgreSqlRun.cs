using System.Globalization;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--postgresql [ROUNDS] [--commit sync|async|both] [--jobs N] [--server CONNECTION_STRING]</c>: the PostgreSQL
/// scenario alone, ROUNDS times (default 3), each round on a fresh server on this machine (with PostgreSQL's default
/// <c>synchronous_commit = on</c>, and/or <c>off</c>) or on the given server, the contenders taking turns in an order
/// rotated every round; one line per round, then each contender's median with its spread (lowest to highest), so the
/// spread on a shared machine shows.
/// </summary>
internal static class PostgreSqlRun
{
    private const int Workers = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--postgresql");
        var rounds = at + 1 < args.Length && !args[at + 1].StartsWith("--", StringComparison.Ordinal) ? Cli.Int(args[at + 1], "--postgresql ROUNDS") : 3;
        var batched = Cli.Option(args, "--jobs") is { } jobs ? Cli.Int(jobs, "--jobs") : PostgreSqlScenario.Jobs;
        bool[] modes = Cli.Option(args, "--commit") switch
        {
            "sync" => [true],
            "async" => [false],
            null or "both" => [true, false],
            var other => throw new UsageException($"--commit must be sync, async or both, not '{other}'."),
        };
        var single = Math.Min(batched, PostgreSqlScenario.SingleJobs);
        var hangfire = Math.Min(batched, PostgreSqlScenario.HangfireJobs);
        if (Cli.Option(args, "--server") is { } connectionString)
        {
            // --commit has no effect here: synchronous_commit is the server's own setting.
            // A server of your own: its settings are yours; each contender still gets a fresh schema.
            var results = new List<PostgreSqlScenario.Result>();
            for (var round = 1; round <= rounds; round++)
            {
                var result = await PostgreSqlScenario.MeasureAsync(connectionString, "given by --server", Workers, single, batched, hangfire, runs: 1, rotation: round - 1);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}, {Workers} workers: ") + result.Describe(single, batched, hangfire));
                results.Add(result);
            }

            Summarize(results, output);
            return 0;
        }

        if (ThrowawayPostgreSqlServer.FindBinaries() is null)
        {
            output.WriteLine("PostgreSQL scenario NOT RUN: " + ThrowawayPostgreSqlServer.MissingMessage);
            return 1;
        }

        var byMode = modes.ToDictionary(mode => mode, _ => new List<PostgreSqlScenario.Result>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var synchronousCommit in modes)
            {
                var result = await PostgreSqlScenario.MeasureAsync(Workers, single, batched, hangfire, runs: 1, synchronousCommit, rotation: round - 1);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}, {Workers} workers: ") + result.Describe(single, batched, hangfire));
                byMode[synchronousCommit].Add(result);
            }
        }

        foreach (var (synchronousCommit, results) in byMode)
        {
            output.Write(synchronousCommit ? "synchronous_commit on: " : "synchronous_commit off: ");
            Summarize(results, output);
        }

        return 0;
    }

    /// <summary>Each contender's median over the rounds, with the lowest and highest, and the median of its per-round ratio to Hangfire.</summary>
    private static void Summarize(List<PostgreSqlScenario.Result> results, TextWriter output)
    {
        string Line(string name, Func<PostgreSqlScenario.Result, Measure.Result> pick)
        {
            var rates = results.Select(r => pick(r).JobsPerSecond).Order().ToArray();
            var ratios = results.Select(r => pick(r).JobsPerSecond / r.Hangfire.JobsPerSecond).Order().ToArray();
            return string.Create(CultureInfo.InvariantCulture, $"{name} median {Median(rates):N0} jobs/s ({rates[0]:N0}-{rates[^1]:N0}), {Median(ratios):F1}x Hangfire ({ratios[0]:F1}-{ratios[^1]:F1}x)");
        }

        var hangfire = results.Select(r => r.Hangfire.JobsPerSecond).Order().ToArray();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{results.Count} rounds: {Line("defaults batched", r => r.Batched)}; {Line("defaults single", r => r.OneByOne)}; {Line("strict batched", r => r.Strict)}; Hangfire median {Median(hangfire):N0} jobs/s ({hangfire[0]:N0}-{hangfire[^1]:N0})"));
    }

    private static double Median(double[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
