using Xunit.Abstractions;

namespace AsyncQueue.Redis.Tests.Crash;

/// <summary>
/// Three worker processes (tests/AsyncQueue.TestWorker) share one queue of 30,000 jobs on one Redis server; one is
/// killed with SIGKILL mid-run: the other two finish everything, and the only jobs handled twice are those the killed
/// process had in flight.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class MultiProcessTests(RedisServer server, ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 30_000;
    private const int Processes = 3;

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-redis-multi-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task KillOneOfThreeProcessesMidRun_OthersFinishEveryJob_DuplicatesOnlyAmongJobsInFlight()
    {
        const int Victim = 0;
        var fleet = new WorkerFleet(server.Server, _folder, RedisServer.NewPrefix());

        // Short leases: the killed process's jobs are rescued about 5 seconds after the kill. Each handler waits 2 ms after
        // recording its run, so the kill finds jobs that were handled but not yet acknowledged.
        var children = fleet.Start(Processes, leaseMilliseconds: 5_000, delayMilliseconds: 2);
        var handledAtKill = 0;
        var logs = await WorkerFleet.RunAsync(children, async () =>
        {
            await fleet.EnqueueAsync(children, Jobs);
            await ChildProcess.WaitUntilAsync(
                () => Task.FromResult(fleet.HandledBy(Victim) >= 500 && Enumerable.Range(0, Processes).Sum(fleet.HandledBy) >= 2_000),
                "the processes handled 2,000 jobs, 500 of them in the one to kill",
                children);
            await children[Victim].KillAsync();
            handledAtKill = Enumerable.Range(0, Processes).Sum(fleet.HandledBy);
            Assert.True(handledAtKill < Jobs, "Every job was handled before the kill; the test proves nothing.");

            var survivors = children.Where((_, i) => i != Victim).ToArray();
            await ChildProcess.WaitUntilAsync(async () => await fleet.JobsLeftAsync() == 0, "the surviving processes completed every job", survivors);
            return survivors;
        });

        var perProcess = fleet.Results(Processes);
        var runs = WorkerResults.Merge(perProcess);
        var killed = perProcess[Victim];
        var lost = Enumerable.Range(0, Jobs).Where(n => !runs.ContainsKey(n)).ToList();
        var duplicates = runs.Where(r => r.Value.Count > 1).Select(r => r.Key).Order().ToList();

        // A job is taken over only if the lease of its attempt expired: the only process that stopped heartbeating is the
        // killed one, so the survivors' rescues are exactly the jobs it held (leased, running, or handled but not yet
        // acknowledged) when it died. Its starts were not recorded, so each is handed back uncharged and runs again as
        // attempt 1, isolated.
        var rescued = logs.Sum(log => WorkerResults.Occurrences(log, "was rescued from an expired lease"));
        Report(
            $"Redis, three processes, {Jobs:N0} jobs, one killed (SIGKILL) after {handledAtKill:N0} were handled. Handled per process: " +
            $"{WorkerResults.Counts(perProcess)} (the killed one first). " +
            $"In flight at the kill (rescued after its leases expired): {rescued}, of which {duplicates.Count} had already run in the killed process. " +
            $"Lost: {lost.Count}. Handled twice: {duplicates.Count}{(duplicates.Count > 0 ? " (jobs " + string.Join(", ", duplicates.Take(20)) + ")" : "")}.");
        ReportFailures(logs);

        Assert.Empty(lost);
        Assert.Equal(Jobs, runs.Count);
        Assert.All(perProcess, p => Assert.NotEmpty(p));
        Assert.All(duplicates, n =>
        {
            Assert.True(killed.TryGetValue(n, out var there) && there is [1], $"Job {n} was handled twice, but not first as attempt 1 in the killed process.");
            Assert.Equal([1, 1], runs[n]);
        });
        Assert.All(runs, r => Assert.All(r.Value, attempt => Assert.Equal(1, attempt)));

        // What the killed process held and had not run is bounded: the jobs its workers were taking, what it had leased
        // ahead for them (LeaseAhead, its default here) and one lease script's batch on its way. The jobs it had run and
        // not yet recorded (its queued completions, AsynchronousCompletions being a default too) are the duplicates.
        Assert.InRange(rescued - duplicates.Count, 0, (2 * WorkerFleet.Concurrency) + new RedisStoreOptions().LeaseAhead + WorkerFleet.FetchBatch);
        Assert.Equal(0, await fleet.DeadLettersAsync());
    }

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
