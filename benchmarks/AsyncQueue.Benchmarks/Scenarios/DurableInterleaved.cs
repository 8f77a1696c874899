using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The headline's durable part (<c>--interleave --part durable</c>): the SQLite and PostgreSQL stores at their
/// defaults, one <c>EnqueueAsync</c> per job and <c>EnqueueBatchAsync</c> batches of 1,000, and Hangfire.PostgreSql on
/// the same server, 2 workers, taking turns in rotating order like the in-memory contenders.
/// </summary>
/// <remarks>
/// One SQLite file and one throwaway PostgreSQL server with PostgreSQL's durable defaults (see
/// <see cref="PostgreSqlScenario"/>) serve every round, so the tables grow and their dead rows accumulate from round to
/// round as in an application; each queue in a schema of its own. Without the PostgreSQL binaries only SQLite runs.
/// The job counts keep one round under 15 s at today's speeds. The thread-pool work items are printed per job here:
/// most are the completions of the stores' I/O, not wake-ups of parked workers.
/// </remarks>
internal static class DurableInterleaved
{
    private const int Workers = 2;
    private const int SqliteSingleJobs = 2_000;
    private const int SqliteBatchedJobs = 20_000;
    private const int PostgreSqlSingleJobs = 1_000;
    private const int PostgreSqlBatchedJobs = 5_000;
    private const int HangfireJobs = 200;

    public static async Task RunAsync(int rounds, TextWriter output)
    {
        var sqlite = new SqliteScenario(Workers);
        ThrowawayPostgreSqlServer? server = null;
        PostgreSqlScenario? postgreSql = null;
        HangfireContender? hangfire = null;
        Interleaved.Results results;
        var turns = new List<Interleaved.Turn>
        {
            new("SQLite, defaults, one EnqueueAsync per job", SqliteSingleJobs, () => sqlite.SingleAsync(SqliteSingleJobs)),
            new("SQLite, defaults, batches of 1,000", SqliteBatchedJobs, () => sqlite.BatchesAsync(SqliteBatchedJobs)),
        };
        try
        {
            await sqlite.StartAsync();
            if (ThrowawayPostgreSqlServer.FindBinaries() is not null)
            {
                server = await ThrowawayPostgreSqlServer.StartAsync(PostgreSqlScenario.Database);
                postgreSql = new PostgreSqlScenario(server.ConnectionString, Workers);
                hangfire = HangfireContender.OnPostgreSql(server.ConnectionString, Workers);
                await postgreSql.StartAsync();
                await hangfire.StartAsync();
                var store = postgreSql;
                var peer = hangfire;
                turns.Add(new("PostgreSQL, defaults, one EnqueueAsync per job", PostgreSqlSingleJobs, () => store.SingleAsync(PostgreSqlSingleJobs)));
                turns.Add(new("PostgreSQL, defaults, batches of 1,000", PostgreSqlBatchedJobs, () => store.BatchesAsync(PostgreSqlBatchedJobs)));
                turns.Add(new(HangfireContender.PostgreSqlLabel, HangfireJobs, () => Drive.SteadyAsync(peer, HangfireJobs)));
            }

            results = await Interleaved.RunRoundsAsync(turns, rounds, warmUps: 1);
        }
        finally
        {
            await sqlite.DisposeAsync();
            if (postgreSql is not null)
            {
                await postgreSql.DisposeAsync();
            }

            if (hangfire is not null)
            {
                await hangfire.DisposeAsync();
            }

            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        var samples = results.Samples;
        var hangfireMedian = server is null ? double.NaN : Interleaved.Median(samples[^1].Select(s => s.JobsPerSecond));
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Durable stores at their defaults, steady producer, {Workers} workers, {rounds} interleaved rounds{(server is null ? " (PostgreSQL NOT RUN: " + ThrowawayPostgreSqlServer.MissingMessage + ")" : $" (PostgreSQL {server.Version})")}:"));
        output.WriteLine();
        output.WriteLine("| contender | jobs per run | jobs/s, median | min-max | x Hangfire.PostgreSql | thread-pool work items per job, median (min-max) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (var i = 0; i < turns.Count; i++)
        {
            var times = Interleaved.Median(samples[i].Select(s => s.JobsPerSecond)) / hangfireMedian;
            var ratio = turns[i].Label.StartsWith("PostgreSQL", StringComparison.Ordinal) && !double.IsNaN(times)
                ? times.ToString("N1", CultureInfo.InvariantCulture) + "x"
                : string.Empty;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {turns[i].Label} | {turns[i].Jobs:N0} | {Interleaved.Rate(samples[i])} | {ratio} | {Interleaved.WakeUps(samples[i].Select(s => s.WakeUpsPerThousandJobs / 1000))} |"));
        }

        results.WriteFailures(turns.Select(t => t.Label).ToArray(), rounds, output);
    }
}
