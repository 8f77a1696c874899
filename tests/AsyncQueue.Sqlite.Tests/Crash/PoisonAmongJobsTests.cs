using System.Globalization;
using System.Text.Json;
using AsyncQueue.Conformance;
using Xunit.Abstractions;

namespace AsyncQueue.Sqlite.Tests.Crash;

/// <summary>
/// Issue 13: a job that kills its process, among many that do not. Real child processes, restarted by the test after
/// each crash as a supervisor would. A crash is charged only to the job that caused it: the poison job ends in the
/// dead-letter queue, and every other job in flight at a crash runs again without spending an attempt.
/// </summary>
public sealed class PoisonAmongJobsTests(ITestOutputHelper output) : IDisposable
{
    private const int Jobs = 300;
    private const int Poison = 100;

    // RetryPolicy.Fixed(2, 200 ms): three attempts, each ended by a crash charged to the poison job.
    private const int PoisonAttempts = 3;

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task PoisonJob_AmongThreeHundredWithFourWorkersAndSupervisedRestarts_IsDeadLetteredAloneAndNoOtherJobIsCharged()
    {
        var results = Path.Combine(_database.Folder, "results.txt");
        var processes = 1;
        var crashes = 0;
        var heldByTheDead = new HashSet<int>();
        var child = StartWorker(results, "--enqueue", Jobs.ToString(CultureInfo.InvariantCulture));
        try
        {
            await child.WaitForMarkerAsync("enqueued");
            while (true)
            {
                // Supervised: a child that dies is replaced at once; the test ends when every job is settled.
                var running = child;
                await Poll.UntilAsync(() => running.HasExited || _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "the child crashed or every job was settled");
                if (!child.HasExited)
                {
                    await child.StopAsync();
                    break;
                }

                // What the dead process held: the poison job and the neighbours leased with it, started or not.
                heldByTheDead.UnionWith(_database.Rows("SELECT payload FROM asyncqueue_jobs WHERE state = 1").Select(row => StoredPayload.Number(row[0])));
                crashes++;
                Assert.True(crashes <= 2 * (PoisonAttempts + 1), $"{crashes} crashes: the poison job is not being dead-lettered.");
                await child.DisposeAsync();
                child = StartWorker(results);
                processes++;
            }
        }
        finally
        {
            await child.DisposeAsync();
        }

        var runs = WorkerResults.Read(results);
        var deadLetters = _database.Rows("SELECT payload, attempt, errors FROM asyncqueue_dead_letters");
        var others = Enumerable.Range(0, Jobs).Where(n => n != Poison).ToList();
        var charged = others.Where(n => runs.TryGetValue(n, out var attempts) && attempts.Any(a => a > 1)).ToList();
        var rerun = others.Count(n => runs.TryGetValue(n, out var attempts) && attempts.Count > 1);
        var neighbours = heldByTheDead.Count(n => n != Poison);
        var report = string.Create(CultureInfo.InvariantCulture,
            $"Poison among {Jobs} jobs, 4 workers, RetryPolicy.Fixed(2, 200 ms): {processes} processes, {crashes} crashes; the poison job started at attempts [{string.Join(", ", runs.GetValueOrDefault(Poison) ?? [])}]; " +
            $"{deadLetters.Count} dead letter(s), {deadLetters.Count(r => StoredPayload.Number(r[0]) != Poison)} of them other jobs; " +
            $"{neighbours} other job(s) were leased to a process when it crashed ({rerun} of them had started and ran again), {charged.Count} were charged an attempt they did not start.");
        output.WriteLine(report);
        Console.WriteLine(report);

        // The poison job alone is dead-lettered, after its attempts, each ended by a crash charged to it.
        var dead = Assert.Single(deadLetters);
        Assert.Equal(Poison, StoredPayload.Number(dead[0]));
        Assert.Equal((long)PoisonAttempts, dead[1]);
        using (var errors = JsonDocument.Parse((string)dead[2]!))
        {
            var crashErrors = errors.RootElement.EnumerateArray().ToList();
            Assert.Equal(PoisonAttempts, crashErrors.Count);
            Assert.All(crashErrors, e => Assert.Equal("AsyncQueue.Storage.JobLeaseExpiredException", e.GetProperty("ExceptionType").GetString()));
        }

        // Its first start was not recorded (it was not yet a suspect), so that crash was charged to no one.
        Assert.Equal([1, 1, 2, 3], runs[Poison]);
        Assert.Equal(PoisonAttempts + 1, crashes);

        // Every other job ran, and every run of it was its first attempt: no crash was charged to it.
        Assert.All(others, n => Assert.True(runs.ContainsKey(n), $"job {n} never ran"));
        Assert.All(heldByTheDead, n => Assert.True(runs.ContainsKey(n), $"job {n}, held by a crashed process, never ran"));
        Assert.Empty(charged);
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2"));
    }

    /// <summary>A worker with 4 workers and RetryPolicy.Fixed(2, 200 ms), whose job <see cref="Poison"/> kills it each time it starts; the others work 20 ms.</summary>
    private ChildProcess StartWorker(string results, params string[] more) => ChildProcess.Start(
        [
            "work", "--sqlite", _database.FilePath, "--results", results, "--concurrency", "4", "--delay-ms", "20",
            "--retries", "2", "--retry-ms", "200", "--poison", Poison.ToString(CultureInfo.InvariantCulture), .. more,
        ]);
}
