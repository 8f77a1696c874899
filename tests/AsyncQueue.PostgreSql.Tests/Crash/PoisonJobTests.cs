using System.Globalization;
using System.Text.Json;
using AsyncQueue.Conformance;
using Npgsql;
using Xunit.Abstractions;

namespace AsyncQueue.PostgreSql.Tests.Crash;

/// <summary>
/// Issue 13 on PostgreSQL: one job among 300 kills its worker process each time it starts (the test worker's
/// <c>work</c> command with <c>--poison</c>: 4 workers, <c>RetryPolicy.Fixed(2, 200 ms)</c>), and the test restarts the
/// worker after each crash, as a supervisor would. The crash must be charged to the poison job alone.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PoisonJobTests(PostgreSqlServer server, ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 300;
    private const int Poison = 150;

    // Fixed(2, 200 ms): three attempts. The first crash comes before the poison job is a suspect, so it is charged to no
    // one; each of the three after it ends an attempt of the poison job running isolated, its start recorded.
    private const int Attempts = 3;
    private const int Crashes = Attempts + 1;

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-pg-poison-").FullName;
    private readonly string _schema = PostgreSqlServer.NewSchema();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task PoisonJob_AmongThreeHundredOnFourWorkersRestartedAfterEachCrash_OnlyItIsChargedAndDeadLettered()
    {
        var results = Path.Combine(_folder, "starts.txt");
        var crashes = 0;
        var worker = StartWorker(results, "--enqueue", Jobs.ToString(CultureInfo.InvariantCulture));
        try
        {
            await worker.WaitForMarkerAsync("enqueued");
            while (await SettledOrCrashedAsync(worker) is false)
            {
                crashes++;
                Assert.True(crashes <= Crashes, $"The worker crashed {crashes} times: more than the poison job's attempts explain.");
                await worker.DisposeAsync();
                worker = StartWorker(results);
            }

            await worker.StopAsync();
        }
        finally
        {
            await worker.DisposeAsync();
        }

        var starts = WorkerResults.Read(results);
        var others = Enumerable.Range(0, Jobs).Where(n => n != Poison).ToList();
        var charged = others.Where(n => starts.TryGetValue(n, out var attempts) && attempts.Exists(a => a != 1)).ToList();
        var startedAgain = others.Count(n => starts.TryGetValue(n, out var attempts) && attempts.Count > 1);
        var deadLetters = await DeadLettersAsync();
        Report(string.Create(
            CultureInfo.InvariantCulture,
            $"PostgreSQL, poison job among {Jobs} on 4 workers, Fixed(2, 200 ms): {crashes} crashes, the poison job started as attempts [{string.Join(", ", starts.GetValueOrDefault(Poison) ?? [])}]; " +
            $"{deadLetters.Count} dead letter(s), {deadLetters.Count(d => d.Number != Poison)} of other jobs; {startedAgain} other job(s) started again after a crash, {charged.Count} charged an attempt they did not start."));

        var poison = Assert.Single(deadLetters);
        Assert.Equal(Poison, poison.Number);
        Assert.Equal(Attempts, poison.Attempts);
        Assert.Equal(Enumerable.Repeat(typeof(AsyncQueue.Storage.JobLeaseExpiredException).FullName, Attempts), poison.ErrorTypes);
        Assert.Equal([1, 1, 2, 3], starts[Poison]);
        Assert.Equal(Crashes, crashes);

        Assert.All(others, n => Assert.True(starts.ContainsKey(n), $"Job {n} never started."));
        Assert.Empty(charged);
    }

    private ChildProcess StartWorker(string results, params string[] more) =>
        ChildProcess.Start([
            "work", "--postgres", server.ConnectionString, "--schema", _schema, "--results", results, "--concurrency", "4", "--delay-ms", "20",
            "--poison", Poison.ToString(CultureInfo.InvariantCulture), "--retries", "2", "--retry-ms", "200", .. more]);

    /// <summary>Waits until the worker died (false) or every job is settled (true). The limit only turns a hang into a failure.</summary>
    private async Task<bool> SettledOrCrashedAsync(ChildProcess worker)
    {
        var settled = false;
        await Poll.UntilAsync(
            async () => worker.HasExited || (settled = await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state < 2") == 0),
            "the worker crashed or every job was settled");
        return settled && !worker.HasExited;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<(int Number, int Attempts, List<string?> ErrorTypes)>> DeadLettersAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"SELECT payload, attempt, errors FROM {_schema}.dead_letters", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, int, List<string?>)>();
        while (await reader.ReadAsync())
        {
            using var payload = JsonDocument.Parse(reader.GetString(0));
            using var errors = JsonDocument.Parse(reader.GetString(2));
            rows.Add((
                payload.RootElement.GetProperty("Number").GetInt32(),
                reader.GetInt32(1),
                [.. errors.RootElement.EnumerateArray().Select(e => e.GetProperty("ExceptionType").GetString())]));
        }

        return rows;
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
