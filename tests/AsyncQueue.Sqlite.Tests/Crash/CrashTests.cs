using AsyncQueue.Conformance;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace AsyncQueue.Sqlite.Tests.Crash;

/// <summary>
/// Real processes killed with SIGKILL. A job whose enqueue returned is handled even if the process handling it dies,
/// and a job that kills its process every time ends in the dead-letter queue instead of crash-looping.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 10_000;

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Kill_ChildMidRun_NewProcessFinishesEveryJobWithDuplicatesOnlyAmongJobsInFlight()
    {
        var results = Path.Combine(_database.Folder, "results.txt");
        var first = ChildProcess.Start("work", "--sqlite", _database.FilePath, "--results", results, "--enqueue", Jobs.ToString(CultureInfo.InvariantCulture), "--delay-ms", "2", "--concurrency", "4");
        await using (first)
        {
            await first.WaitForMarkerAsync("ready");
            await Poll.UntilAsync(() => WorkerResults.Read(results).Values.Sum(r => r.Count) >= 2_000, "the first child handled 2,000 jobs");
            await first.KillAsync();
        }

        // What the killed process left: jobs leased to it (in flight, maybe already handled but not acknowledged) and
        // jobs never started.
        var inFlight = JobNumbers("SELECT payload FROM asyncqueue_jobs WHERE state = 1");
        var notStarted = _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 0");
        var handledBeforeKill = WorkerResults.Read(results).Count;
        Assert.True(notStarted > 0, "The first child finished before it was killed; the test proves nothing.");

        var second = ChildProcess.Start("work", "--sqlite", _database.FilePath, "--results", results, "--delay-ms", "0", "--concurrency", "4");
        await using (second)
        {
            await second.WaitForMarkerAsync("ready");
            await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "the second child finished every job");
            await second.StopAsync();
        }

        var runs = WorkerResults.Read(results);
        var lost = Enumerable.Range(0, Jobs).Where(n => !runs.ContainsKey(n)).ToList();
        var duplicates = runs.Where(r => r.Value.Count > 1).Select(r => r.Key).Order().ToList();
        var report = $"Crash test: killed after {handledBeforeKill} of {Jobs} jobs were handled, with {inFlight.Count} in flight and {notStarted} not started; " +
            $"the second process finished the rest. Lost: {lost.Count}. Duplicates: {duplicates.Count} (all among the {inFlight.Count} in flight: {duplicates.All(inFlight.Contains)}).";
        output.WriteLine(report);
        Console.WriteLine(report);

        Assert.Empty(lost);
        Assert.Subset(inFlight, duplicates.ToHashSet());
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_dead_letters"));

        // A re-run of an in-flight job is the same attempt again: its start was not recorded, so no one knows whether it
        // caused the crash, and it is not charged (it runs again isolated, its start recorded).
        Assert.All(duplicates, n => Assert.Equal([1, 1], runs[n]));
    }

    [Fact]
    public async Task Kill_EveryTimePoisonJobStarts_DeadLettersItAfterMaxAttempts()
    {
        const int MaxAttempts = 3;

        // The first crash is charged to no one: the job's start was not recorded. From then on it runs isolated, its
        // start recorded, and each crash is its failed attempt.
        int[] starts = [1, 1, 2, 3];
        for (var run = 0; run < starts.Length; run++)
        {
            var child = run == 0
                ? ChildProcess.Start("poison", "--sqlite", _database.FilePath, "--enqueue", "--max-attempts", MaxAttempts.ToString(CultureInfo.InvariantCulture))
                : ChildProcess.Start("poison", "--sqlite", _database.FilePath);
            await using (child)
            {
                // Each new process first takes over the dead one's expired lease (its dispatcher decides), then runs the job.
                Assert.Equal($"started {starts[run]}", await child.WaitForMarkerAsync("started "));
                await child.KillAsync();
            }
        }

        var last = ChildProcess.Start("poison", "--sqlite", _database.FilePath);
        await using (last)
        {
            var deadLettered = await last.WaitForMarkerAsync("dead-lettered ");
            Assert.EndsWith($" {MaxAttempts}", deadLettered, StringComparison.Ordinal);
            await last.StopAsync();
        }

        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2"));
        var entry = Assert.Single(_database.Rows("SELECT attempt, errors FROM asyncqueue_dead_letters"));
        Assert.Equal((long)MaxAttempts, entry[0]);
        using var errors = JsonDocument.Parse((string)entry[1]!);
        var crashes = errors.RootElement.EnumerateArray().ToList();
        Assert.Equal(MaxAttempts, crashes.Count);
        Assert.All(crashes, e => Assert.Equal("AsyncQueue.Storage.JobLeaseExpiredException", e.GetProperty("ExceptionType").GetString()));
        Assert.Equal([1, 2, 3], crashes.Select(e => e.GetProperty("Attempt").GetInt32()));
        output.WriteLine($"Poison test: the job started {starts.Length} times, each start killed its process, then it was dead-lettered with {crashes.Count} crash errors.");
    }

    private HashSet<int> JobNumbers(string sql) =>
        [.. _database.Rows(sql).Select(row =>
        {
            using var payload = JsonDocument.Parse((string)row[0]!);
            return payload.RootElement.GetProperty("Number").GetInt32();
        })];
}
