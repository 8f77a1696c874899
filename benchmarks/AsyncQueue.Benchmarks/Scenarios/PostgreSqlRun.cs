using System.Globalization;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--postgresql [ROUNDS] [--commit sync|async|both] [--jobs N] [--server CONNECTION_STRING]</c>: the PostgreSQL
/// scenario alone, ROUNDS times (default 3), each round on a fresh server on this machine (with PostgreSQL's default
/// <c>synchronous_commit = on</c>, and/or <c>off</c>) or on the given server; one line per round, so the spread on a
/// shared machine shows.
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
            for (var round = 1; round <= rounds; round++)
            {
                var result = await PostgreSqlScenario.MeasureAsync(connectionString, "given by --server", Workers, single, batched, hangfire, runs: 1);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}, {Workers} workers: ") + result.Describe(single, batched, hangfire));
            }

            return 0;
        }

        if (ThrowawayPostgreSqlServer.FindBinaries() is null)
        {
            output.WriteLine("PostgreSQL scenario NOT RUN: " + ThrowawayPostgreSqlServer.MissingMessage);
            return 1;
        }

        for (var round = 1; round <= rounds; round++)
        {
            foreach (var synchronousCommit in modes)
            {
                var result = await PostgreSqlScenario.MeasureAsync(Workers, single, batched, hangfire, runs: 1, synchronousCommit);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}, {Workers} workers: ") + result.Describe(single, batched, hangfire));
            }
        }

        return 0;
    }
}
