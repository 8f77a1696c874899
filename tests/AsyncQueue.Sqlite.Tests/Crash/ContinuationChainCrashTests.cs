using AsyncQueue.Conformance;

namespace AsyncQueue.Sqlite.Tests.Crash;

/// <summary>
/// A continuation chain survives SIGKILL: the link from a step to the next is a row, released in the transaction that
/// records its parent's success, so a process killed between steps leaves the chain for the next process to finish.
/// </summary>
public sealed class ContinuationChainCrashTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Kill_BetweenStepsOfAChainOfThree_NewProcessesFinishTheChainInOrder()
    {
        var results = Path.Combine(_database.Folder, "results.txt");

        // The first process enqueues the chain, finishes step 1, and is killed once step 2 started.
        var first = ChildProcess.Start("chain", "--sqlite", _database.FilePath, "--results", results, "--enqueue", "--block-at", "2");
        string[] ids;
        await using (first)
        {
            ids = (await first.WaitForMarkerAsync("enqueued ")).Split(' ')[1..];
            await first.WaitForMarkerAsync("started 2 ");
            await first.KillAsync();
        }

        Assert.Equal([2L, 1L, -1L], States());

        // The second takes over step 2 once its lease expired, runs it to success, and is killed once step 3 started.
        var second = ChildProcess.Start("chain", "--sqlite", _database.FilePath, "--results", results, "--block-at", "3");
        await using (second)
        {
            await second.WaitForMarkerAsync("started 3 ");
            await second.KillAsync();
        }

        Assert.Equal([2L, 2L, 1L], States());

        // The third finishes the chain.
        var third = ChildProcess.Start("chain", "--sqlite", _database.FilePath, "--results", results);
        await using (third)
        {
            await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 2") == 3, "the third process finished the chain");
            await third.StopAsync();
        }

        // Each step ran after its parent's success; the steps running when a process was killed ran again.
        var steps = File.ReadAllLines(results).Select(line => int.Parse(line.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([1, 2, 2, 3, 3], steps);
        Assert.Equal(3, ids.Length);
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_dead_letters"));
    }

    /// <summary>The chain's states by step, from the rows in enqueue order.</summary>
    private long[] States() => [.. _database.Rows("SELECT state FROM asyncqueue_jobs ORDER BY seq").Select(row => (long)row[0]!)];
}
