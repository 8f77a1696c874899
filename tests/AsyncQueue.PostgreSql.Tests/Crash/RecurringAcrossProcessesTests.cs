using AsyncQueue.Conformance;
using Npgsql;
using Xunit.Abstractions;

namespace AsyncQueue.PostgreSql.Tests.Crash;

/// <summary>
/// Three worker processes (tests/AsyncQueue.TestWorker, command <c>recurring</c>) run the same every-second recurring
/// job on one PostgreSQL database, each enqueueing every tick: over 100 ticks the store holds exactly one job per tick,
/// and each tick's job runs once. What enforces it is the store's unique idempotency key per tick, not a lock.
/// </summary>
/// <remarks>
/// This test runs on the real clock, since the processes share no fake one: the 100 ticks take 100 seconds. It times
/// nothing; it waits until the window's ticks have run and counts.
/// </remarks>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class RecurringAcrossProcessesTests(PostgreSqlServer server, ITestOutputHelper output) : IDisposable
{
    private const int Processes = 3;
    private const int Ticks = 100;

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-pg-recurring-").FullName;
    private readonly string _schema = PostgreSqlServer.NewSchema();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ThreeProcessesOneSchedule_100Ticks_ExactlyOneJobPerTick()
    {
        var children = Enumerable.Range(0, Processes).Select(i => ChildProcess.Start(
            "recurring",
            "--postgres", server.ConnectionString,
            "--schema", _schema,
            "--results", ResultsPath(i))).ToArray();
        long first;
        string[] logs;
        try
        {
            foreach (var child in children)
            {
                await child.WaitForMarkerAsync("ready");
            }

            // Every process is scheduling from the second after the last one became ready: the window starts there.
            first = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + 2;
            var window = Enumerable.Range(0, Ticks).Select(i => (int)(first + i)).ToArray();
            await ChildProcess.WaitUntilAsync(
                () => Task.FromResult(window.All(WorkerResults.Merge(Results()).ContainsKey)),
                $"the jobs of the {Ticks} ticks in the window ran",
                children);

            foreach (var child in children)
            {
                await child.StopAsync();
            }

            logs = [.. children.Select(c => c.Errors)];
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }

        var perProcess = Results();
        var runs = WorkerResults.Merge(perProcess);
        var inWindow = runs.Where(r => r.Key >= first && r.Key < first + Ticks).ToList();
        var duplicatesFound = logs.Select(log => WorkerResults.Occurrences(log, "was enqueued already")).ToArray();
        var rows = await TickRowsAsync();
        output.WriteLine(
            $"Three processes, one every-second schedule: {runs.Count} ticks ran in all, {inWindow.Count} in the {Ticks}-tick window; " +
            $"handled per process {WorkerResults.Counts(perProcess)}; ticks found enqueued by another process, per process: {string.Join(" / ", duplicatesFound)}; " +
            $"job rows per tick key: {rows.Count} keys, at most {(rows.Count == 0 ? 0 : rows.Values.Max())}.");

        Assert.Equal(Ticks, inWindow.Count);
        Assert.All(inWindow, r => Assert.Equal([1], r.Value));
        Assert.All(runs, r => Assert.Single(r.Value));
        Assert.All(Enumerable.Range(0, Ticks), i => Assert.Equal(1, rows[first + i]));
        Assert.All(rows, r => Assert.Equal(1, r.Value));

        // Each process enqueued ticks that another had enqueued first: all three took part, and the store refused them.
        Assert.All(duplicatesFound, count => Assert.True(count > 0, "A process never met a tick enqueued by another; the test proves nothing."));
        Assert.All(logs, log => Assert.DoesNotContain("failed to enqueue", log, StringComparison.Ordinal));
    }

    private string ResultsPath(int child) => Path.Combine(_folder, $"child{child}.txt");

    private Dictionary<int, List<int>>[] Results() => [.. Enumerable.Range(0, Processes).Select(i => WorkerResults.Read(ResultsPath(i)))];

    /// <summary>The job rows of each tick, by the tick in Unix seconds: succeeded jobs are kept a day, so every tick's job is still there.</summary>
    private async Task<Dictionary<long, long>> TickRowsAsync()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT idempotency_key, COUNT(*) FROM {_schema}.jobs WHERE idempotency_key LIKE 'recurring:tick:%' GROUP BY idempotency_key", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<long, long>();
        while (await reader.ReadAsync())
        {
            var tick = DateTimeOffset.Parse(reader.GetString(0)["recurring:tick:".Length..], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind);
            rows[tick.ToUnixTimeSeconds()] = reader.GetInt64(1);
        }

        return rows;
    }
}
