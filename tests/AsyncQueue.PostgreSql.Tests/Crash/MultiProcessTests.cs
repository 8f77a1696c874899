using System.Globalization;
using AsyncQueue.Conformance;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace AsyncQueue.PostgreSql.Tests.Crash;

/// <summary>
/// Three worker processes (tests/AsyncQueue.TestWorker) share one queue of 30,000 jobs on one PostgreSQL database:
/// every job is handled and none twice; when one process is killed with SIGKILL mid-run, the other two finish
/// everything, and the only jobs handled twice are those the killed process had in flight.
/// </summary>
/// <remarks>
/// Each child appends "number attempt" to its own results file, flushed to the operating system before its handler
/// returns, so before the job's completion can commit. The test process enqueues (its workers never start).
/// </remarks>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class MultiProcessTests(PostgreSqlServer server, ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 30_000;
    private const int Processes = 3;
    private const int Concurrency = 4;
    private const int FetchBatch = 32;

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-pg-multi-").FullName;
    private readonly string _schema = PostgreSqlServer.NewSchema();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ThreeProcesses_Share30000Jobs_EachHandledExactlyOnceBySomeProcess()
    {
        // No process dies here: long leases, so that a heartbeat slowed down by a loaded machine never looks like a death.
        var children = StartChildren(leaseMilliseconds: 10_000, delayMilliseconds: 0);
        var logs = await RunAsync(children, async () =>
        {
            await EnqueueAllAsync(children);
            await ChildProcess.WaitUntilAsync(async () => await JobsLeftAsync() == 0, "every job was completed", children);
            return children;
        });

        var perProcess = Enumerable.Range(0, Processes).Select(i => WorkerResults.Read(ResultsPath(i))).ToArray();
        var runs = WorkerResults.Merge(perProcess);
        var lost = Enumerable.Range(0, Jobs).Count(n => !runs.ContainsKey(n));
        var duplicates = runs.Count(r => r.Value.Count > 1);
        Report($"Three processes, {Jobs:N0} jobs: handled per process {WorkerResults.Counts(perProcess)}; lost {lost}; handled twice {duplicates}.");
        ReportFailures(logs);

        Assert.Equal(0, lost);
        Assert.Equal(Jobs, runs.Count);
        Assert.Equal(0, duplicates);
        Assert.All(runs, r => Assert.Equal([1], r.Value));
        Assert.All(perProcess, p => Assert.NotEmpty(p));
        Assert.Equal(0, await DeadLettersAsync());
    }

    [Fact]
    public async Task KillOneOfThreeProcessesMidRun_OthersFinishEveryJob_DuplicatesOnlyAmongJobsInFlight()
    {
        const int Victim = 0;

        // Short leases: the killed process's jobs are rescued about 5 seconds after the kill. Each handler waits 2 ms after
        // recording its run, so the kill finds jobs that were handled but not yet acknowledged.
        var children = StartChildren(leaseMilliseconds: 5_000, delayMilliseconds: 2);
        var handledAtKill = 0;
        var logs = await RunAsync(children, async () =>
        {
            await EnqueueAllAsync(children);
            await ChildProcess.WaitUntilAsync(
                () => Task.FromResult(HandledBy(Victim) >= 500 && Enumerable.Range(0, Processes).Sum(HandledBy) >= 2_000),
                "the processes handled 2,000 jobs, 500 of them in the one to kill",
                children);
            await children[Victim].KillAsync();
            handledAtKill = Enumerable.Range(0, Processes).Sum(HandledBy);
            Assert.True(handledAtKill < Jobs, "Every job was handled before the kill; the test proves nothing.");

            var survivors = children.Where((_, i) => i != Victim).ToArray();
            await ChildProcess.WaitUntilAsync(async () => await JobsLeftAsync() == 0, "the surviving processes completed every job", survivors);
            return survivors;
        });

        var perProcess = Enumerable.Range(0, Processes).Select(i => WorkerResults.Read(ResultsPath(i))).ToArray();
        var runs = WorkerResults.Merge(perProcess);
        var killed = perProcess[Victim];
        var lost = Enumerable.Range(0, Jobs).Where(n => !runs.ContainsKey(n)).ToList();
        var duplicates = runs.Where(r => r.Value.Count > 1).Select(r => r.Key).Order().ToList();

        // A job is rescued only if the lease of its attempt expired: the only process that stopped heartbeating is the
        // killed one, so the survivors' rescues are exactly the jobs it held (leased, running, or handled but not yet
        // acknowledged) when it died. Its starts were not recorded, so each is handed back uncharged (the dispatcher
        // logs one Warning per rescue) and runs again as attempt 1, isolated.
        var rescued = logs.Sum(log => WorkerResults.Occurrences(log, "was rescued from an expired lease"));
        var rescuedAfterRunning = duplicates.Count;
        Report(
            $"Three processes, {Jobs:N0} jobs, one killed (SIGKILL) after {handledAtKill:N0} were handled. Handled per process: " +
            $"{WorkerResults.Counts(perProcess)} (the killed one first). " +
            $"In flight at the kill (rescued after its leases expired): {rescued}, of which {rescuedAfterRunning} had already run in the killed process. " +
            $"Lost: {lost.Count}. Handled twice: {duplicates.Count}{(duplicates.Count > 0 ? " (jobs " + string.Join(", ", duplicates.Take(20)) + ")" : "")}.");

        foreach (var n in duplicates)
        {
            Report($"Job {n}: attempts run per process {string.Join(" / ", perProcess.Select(p => p.TryGetValue(n, out var a) ? "[" + string.Join(",", a) + "]" : "-"))}.");
        }

        ReportFailures(logs);

        Assert.Empty(lost);
        Assert.Equal(Jobs, runs.Count);
        Assert.All(perProcess, p => Assert.NotEmpty(p));

        // Every duplicate was in flight in the killed process: run there as attempt 1, never acknowledged, rescued, and
        // run once more elsewhere, uncharged, as attempt 1 again. No job is run twice by the survivors, nor more than twice,
        // and none was charged an attempt for the crash.
        Assert.All(duplicates, n =>
        {
            Assert.True(killed.TryGetValue(n, out var there) && there is [1], $"Job {n} was handled twice, but not first as attempt 1 in the killed process.");
            Assert.Equal([1, 1], runs[n]);
        });
        Assert.All(runs, r => Assert.All(r.Value, attempt => Assert.Equal(1, attempt)));

        // What the killed process held is bounded: one job per worker, plus what it had leased ahead for them.
        Assert.InRange(rescued, duplicates.Count, Concurrency + FetchBatch);
        Assert.Equal(0, await DeadLettersAsync());
    }

    /// <summary>
    /// Runs <paramref name="scenario"/>, stops the children it returns (those still alive), and disposes every child
    /// whatever happens; returns each child's error output.
    /// </summary>
    private static async Task<string[]> RunAsync(ChildProcess[] children, Func<Task<ChildProcess[]>> scenario)
    {
        try
        {
            foreach (var child in await scenario())
            {
                await child.StopAsync();
            }

            return [.. children.Select(c => c.Errors)];
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }

    private ChildProcess[] StartChildren(int leaseMilliseconds, int delayMilliseconds) =>
        [.. Enumerable.Range(0, Processes).Select(i => ChildProcess.Start(
            "work",
            "--postgres", server.ConnectionString,
            "--schema", _schema,
            "--results", ResultsPath(i),
            "--delay-ms", delayMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--concurrency", Concurrency.ToString(CultureInfo.InvariantCulture),
            "--fetch-batch", FetchBatch.ToString(CultureInfo.InvariantCulture),
            "--lease-ms", leaseMilliseconds.ToString(CultureInfo.InvariantCulture)))];

    /// <summary>Once every child is ready, enqueues the jobs from this process in batches of 1,000, while the children run them.</summary>
    private async Task EnqueueAllAsync(ChildProcess[] children)
    {
        foreach (var child in children)
        {
            await child.WaitForMarkerAsync("ready");
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddJobQueue()
            .AddHandler<DurableJob, EnqueueOnlyHandler>()
            .UsePostgreSql(server.ConnectionString, options => options.Schema = _schema);
        await using var provider = services.BuildServiceProvider();
        var queue = provider.GetRequiredService<IJobQueue>();
        for (var start = 0; start < Jobs; start += 1_000)
        {
            var results = await queue.EnqueueBatchAsync(Enumerable.Range(start, 1_000).Select(n => new DurableJob(n)));
            Assert.All(results, r => Assert.Equal(EnqueueStatus.Accepted, r.Status));
        }
    }

    private string ResultsPath(int child) => Path.Combine(_folder, $"child{child}.txt");

    private int HandledBy(int child) => WorkerResults.Read(ResultsPath(child)).Values.Sum(r => r.Count);

    private Task<long> JobsLeftAsync() => ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state < 2");

    private Task<long> DeadLettersAsync() => ScalarAsync($"SELECT COUNT(*) FROM {_schema}.dead_letters");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Prints the logs of the children that logged a failure (a failed store call explains an unexpected duplicate).</summary>
    private void ReportFailures(string[] logs)
    {
        for (var i = 0; i < logs.Length; i++)
        {
            if (logs[i].Contains("fail:", StringComparison.Ordinal))
            {
                Report($"Standard error of process {i}:\n{logs[i]}");
            }
        }
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
