using System.Globalization;
using Npgsql;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--postgresql-scale [CHUNKS] [--chunk N] [--statements] [--strict]</c>: whether the PostgreSQL store's speed holds as work
/// grows and the planner's statistics change. One store at its defaults (2 workers, batches of 1,000) on a fresh
/// throwaway server with PostgreSQL's durable defaults runs CHUNKS chunks (default 10) of N jobs (default 50,000), with
/// <c>ANALYZE</c> and <c>VACUUM</c> of the jobs table forced before each chunk: the ANALYZE sees no leased row, which is
/// what once planned the completion statement as a scan of every leased row per job. Per chunk it prints the jobs/s,
/// its ratio to the first chunk (the goal: within 25%), the rows still leased when the last handler ran, and the rows
/// left leased once the queued completions committed (must be 0). <c>--statements</c> ends with the server's
/// statements by total time (pg_stat_statements): the profile of the run. <c>--strict</c> runs the store with
/// <c>LeaseAhead</c> 0 and synchronous completions instead of its defaults.
/// </summary>
internal static class PostgreSqlScale
{
    private const int Workers = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--postgresql-scale");
        var chunks = at + 1 < args.Length && !args[at + 1].StartsWith("--", StringComparison.Ordinal) ? Cli.Int(args[at + 1], "--postgresql-scale CHUNKS") : 10;
        var chunk = Cli.Option(args, "--chunk") is { } size ? Cli.Int(size, "--chunk") : 50_000;
        if (ThrowawayPostgreSqlServer.FindBinaries() is null)
        {
            output.WriteLine("PostgreSQL scale scenario NOT RUN: " + ThrowawayPostgreSqlServer.MissingMessage);
            return 1;
        }

        await using var server = await ThrowawayPostgreSqlServer.StartAsync(PostgreSqlScenario.Database, "shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all");
        await using var admin = new NpgsqlConnection(server.ConnectionString);
        await admin.OpenAsync();
        var strict = args.Contains("--strict");
        await using var store = new PostgreSqlScenario(server.ConnectionString, Workers, strict);
        await store.StartAsync();
        var jobs = store.Schema + ".jobs";

        // A warm-up (JIT, connections, the plan caches), not counted; then the profile starts from zero.
        await store.BatchesAsync(Math.Min(chunk, 5_000));
        await ExecuteAsync(admin, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()");

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PostgreSQL {server.Version}; store {(strict ? "with LeaseAhead 0 and synchronous completions" : "defaults")}, {Workers} workers, {chunks} chunks of {chunk:N0} jobs in batches of {PostgreSqlScenario.Batch:N0}, ANALYZE + VACUUM of the jobs table before each chunk"));
        double? first = null;
        var within = 0;
        for (var number = 1; number <= chunks; number++)
        {
            await ExecuteAsync(admin, $"ANALYZE {jobs}");
            await ExecuteAsync(admin, $"VACUUM {jobs}");
            var result = await Measure.TimeAsync(chunk, () => store.BatchesAsync(chunk));
            var leasedAtEnd = await LeasedAsync(admin, jobs);
            var (left, settledIn) = await LeftLeasedAsync(admin, jobs);
            var rows = await CountAsync(admin, $"SELECT COUNT(*) FROM {jobs}");
            first ??= result.JobsPerSecond;
            var ratio = result.JobsPerSecond / first.Value;
            var ok = Math.Abs(ratio - 1) <= 0.25;
            within += ok ? 1 : 0;
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"chunk {number,2}: {result.JobsPerSecond,8:N0} jobs/s = {ratio:P0} of the first ({(ok ? "within 25%" : "OUTSIDE 25%")}); leased when the last handler ran {leasedAtEnd:N0}, left leased {left:N0} (after {settledIn.TotalMilliseconds:N0} ms); rows in the table {rows:N0}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{within} of {chunks} chunks within 25% of the first"));
        if (args.Contains("--statements"))
        {
            await PrintStatementsAsync(admin, output);
        }

        return 0;
    }

    private static Task<long> LeasedAsync(NpgsqlConnection admin, string jobs) => CountAsync(admin, $"SELECT COUNT(*) FROM {jobs} WHERE state = 1");

    /// <summary>The rows left leased once the completions queued when the last handler ran have committed: polled for up to 30 s.</summary>
    private static async Task<(long Left, TimeSpan After)> LeftLeasedAsync(NpgsqlConnection admin, string jobs)
    {
        var start = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var left = await LeasedAsync(admin, jobs);
            var elapsed = TimeProvider.System.GetElapsedTime(start);
            if (left == 0 || elapsed > TimeSpan.FromSeconds(30))
            {
                return (left, elapsed);
            }

            await Task.Delay(20);
        }
    }

    private static async Task PrintStatementsAsync(NpgsqlConnection admin, TextWriter output)
    {
        output.WriteLine("statements by total time: total ms, calls, mean ms, rows per call, buffers read per row (a plan proportional to its batch keeps it flat), the statement's start");
        await using var command = new NpgsqlCommand(
            "SELECT total_exec_time, calls, mean_exec_time, rows::float8 / GREATEST(calls, 1), (shared_blks_hit + shared_blks_read)::float8 / GREATEST(rows, 1), regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12",
            admin);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var query = reader.GetString(5);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{reader.GetDouble(0),10:N0} {reader.GetInt64(1),8:N0} {reader.GetDouble(2),8:N2} {reader.GetDouble(3),8:N1} {reader.GetDouble(4),8:N1}  {query[..Math.Min(query.Length, 110)]}"));
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection admin, string sql)
    {
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(NpgsqlConnection admin, string sql)
    {
        await using var command = new NpgsqlCommand(sql, admin);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
