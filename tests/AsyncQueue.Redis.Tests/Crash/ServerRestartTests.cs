using Xunit.Abstractions;

namespace AsyncQueue.Redis.Tests.Crash;

/// <summary>
/// Redis itself crashes (SIGKILL, no shutdown save) mid-run and restarts from its append-only file, written with
/// <c>appendfsync always</c>: every job accepted before the crash still runs. A server of its own, since it is killed.
/// </summary>
public sealed class ServerRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Jobs = 20_000;
    private const int Processes = 2;

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-redis-restart-").FullName;
    private ThrowawayRedisServer? _server;

    public async Task InitializeAsync() => _server = await ThrowawayRedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task RedisCrashesAndRestartsMidRun_WithAppendFsyncAlways_EveryAcceptedJobRuns()
    {
        var fleet = new WorkerFleet(_server!, _folder, RedisServer.NewPrefix());
        var children = fleet.Start(Processes, leaseMilliseconds: 5_000, delayMilliseconds: 1);
        var handledAtCrash = 0;
        var logs = await WorkerFleet.RunAsync(children, async () =>
        {
            await fleet.EnqueueAsync(children, Jobs);
            await ChildProcess.WaitUntilAsync(
                () => Task.FromResult(Enumerable.Range(0, Processes).Sum(fleet.HandledBy) >= 3_000),
                "the processes handled 3,000 jobs",
                children);
            await _server!.CrashAndRestartAsync(TimeSpan.FromSeconds(1));
            handledAtCrash = Enumerable.Range(0, Processes).Sum(fleet.HandledBy);
            Assert.True(handledAtCrash < Jobs, "Every job was handled before the crash; the test proves nothing.");

            await ChildProcess.WaitUntilAsync(
                async () => Enumerable.Range(0, Jobs).All(WorkerResults.Merge(fleet.Results(Processes)).ContainsKey) && await fleet.JobsLeftAsync() == 0,
                "the processes ran every accepted job after Redis restarted",
                children);
            return children;
        });

        var perProcess = fleet.Results(Processes);
        var runs = WorkerResults.Merge(perProcess);
        var lost = Enumerable.Range(0, Jobs).Count(n => !runs.ContainsKey(n));
        var duplicates = runs.Count(r => r.Value.Count > 1);
        var line = $"Redis crashed (SIGKILL) and restarted from its append-only file (appendfsync always) after {handledAtCrash:N0} of {Jobs:N0} jobs were handled. " +
            $"Handled per process: {WorkerResults.Counts(perProcess)}. Lost: {lost}. Handled more than once: {duplicates} (their acknowledgements or leases were in flight during the outage).";
        output.WriteLine(line);
        Console.WriteLine(line);

        Assert.Equal(0, lost);
        Assert.Equal(0, await fleet.DeadLettersAsync());
        _ = logs;
    }
}
