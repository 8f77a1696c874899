using System.Diagnostics;
using System.Globalization;
using AsyncQueue.Conformance;
using Xunit.Abstractions;

namespace AsyncQueue.Sqlite.Tests.Crash;

/// <summary>
/// Issue 13, with real processes: a worker stopped with SIGSTOP until another process has taken over and finished
/// every job it held, then resumed with SIGCONT, starts none of the jobs it lost, and goes on with new ones. A stop
/// rarely catches a job leased and not yet started, since the SQLite store leases only for workers about to take a
/// job; Storage/FrozenWorkerTests stages that case in-process.
/// </summary>
public sealed class FrozenProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 40;

    // Enqueued while the worker is stopped and the other process is gone: only the resumed worker can run them.
    private static readonly int[] Later = [.. Enumerable.Range(1_000, 8)];

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Resume_AfterAnotherProcessTookOverAndFinishedItsJobs_StartsNoneOfTheLostJobs()
    {
        var frozenResults = Path.Combine(_database.Folder, "frozen.txt");
        var liveResults = Path.Combine(_database.Folder, "live.txt");

        // Jobs of a second each, so that the stop finds the workers inside their handlers; leases of 3 seconds.
        await using var frozen = ChildProcess.Start("work", "--sqlite", _database.FilePath, "--results", frozenResults, "--enqueue", Jobs.ToString(CultureInfo.InvariantCulture), "--delay-ms", "1000", "--concurrency", "4", "--lease-ms", "3000");
        await frozen.WaitForMarkerAsync("ready");
        await Poll.UntilAsync(() => WorkerResults.Read(frozenResults).Count >= 4, "the first process started its workers' jobs");

        Signal("STOP", frozen);
        List<(int Number, long Seq)> lost;
        int startedBeforeStop;
        try
        {
            // Stopped, it writes nothing more: what it holds and what it started are fixed now.
            lost = [.. _database.Rows("SELECT payload, seq FROM asyncqueue_jobs WHERE state = 1").Select(row => (StoredPayload.Number(row[0]), (long)row[1]!))];
            var queue = (string)_database.Rows("SELECT queue FROM asyncqueue_jobs LIMIT 1").Single()[0]!;
            startedBeforeStop = ReadLines(frozenResults).Count;
            Assert.NotEmpty(lost);

            // Another process takes over every lease the stopped one held, and finishes every job, lost ones included.
            await using (var live = ChildProcess.Start("work", "--sqlite", _database.FilePath, "--results", liveResults, "--delay-ms", "10", "--concurrency", "4", "--lease-ms", "3000"))
            {
                await live.WaitForMarkerAsync("ready");
                await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "the second process finished every job");
                await live.StopAsync();
            }

            foreach (var number in Later)
            {
                _database.InsertRawJob(queue, "durable-job", $$"""{"Number":{{number}}}""", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            }

            Signal("CONT", frozen);
            await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "the resumed process ran the later jobs");
        }
        finally
        {
            Signal("CONT", frozen);
        }

        await frozen.StopAsync();

        var lostNumbers = lost.Select(held => held.Number).ToHashSet();
        var startedAfterResume = ReadLines(frozenResults).Skip(startedBeforeStop).Select(line => int.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture)).ToList();
        var liveRuns = WorkerResults.Read(liveResults);
        var frozenRuns = WorkerResults.Read(frozenResults);
        var beforeStop = ReadLines(frozenResults).Take(startedBeforeStop).Select(line => int.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture)).ToHashSet();
        var notStartedWhenStopped = lostNumbers.Count(n => !beforeStop.Contains(n));
        var report = $"Frozen process: stopped holding {lost.Count} lease(s) ({notStartedWhenStopped} of those jobs not yet started); another process took them over and finished every job; resumed, it started {startedAfterResume.Count} job(s), {startedAfterResume.Count(lostNumbers.Contains)} of them lost ones.";
        output.WriteLine(report);
        Console.WriteLine(report);

        Assert.DoesNotContain(startedAfterResume, lostNumbers.Contains);
        Assert.Equal(Later, startedAfterResume.Order());
        Assert.All(lostNumbers, n => Assert.True(liveRuns.ContainsKey(n), $"job {n}, taken over from the stopped process, never ran"));
        Assert.All(Enumerable.Range(0, Jobs), n => Assert.True(liveRuns.ContainsKey(n) || frozenRuns.ContainsKey(n), $"job {n} never ran"));
        Assert.All(liveRuns.Concat(frozenRuns).SelectMany(r => r.Value), attempt => Assert.Equal(1, attempt));
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_dead_letters"));
    }

    private static void Signal(string signal, ChildProcess child)
    {
        if (child.HasExited)
        {
            return;
        }

        using var kill = Process.Start("kill", ["-" + signal, child.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static List<string> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return [.. reader.ReadToEnd().Split('\n').Where(line => line.Contains(' ', StringComparison.Ordinal))];
    }
}
