using System.Collections.Concurrent;
using System.Diagnostics;
using AsyncQueue.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.RateLimiting;

/// <summary>
/// Issue 21: a queue-wide rate limit on a SQLite file holds across every process on it. Two hosts, each with its own
/// store on the file and three workers, play two processes; one fake clock drives both.
/// </summary>
public sealed class SharedRateLimitTests : IDisposable
{
    // On a window boundary, so the first window is a whole one.
    private static readonly DateTimeOffset Start = new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task RateLimit_FivePerSecondOverASimulatedMinuteInTwoProcesses_HoldsInEveryWindowAndRunsEveryJob()
    {
        const int Permits = 5;
        const int Seconds = 60;
        const int Jobs = (Permits * Seconds) + 12;
        var time = new FakeTimeProvider(Start);
        var limit = JobRateLimit.PerSecond(Permits);
        var starts = new ConcurrentDictionary<long, int>();
        var runs = new ConcurrentDictionary<int, int>();
        var byProcess = new int[2];
        var total = 0;

        Task<JobQueueTestHost> StartProcess(int process) => JobQueueTestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(new SqliteTestJobHandler.Behaviour((job, _) =>
            {
                starts.AddOrUpdate(limit.WindowOf(time.GetUtcNow()), 1, static (_, n) => n + 1);
                runs.AddOrUpdate(job.Number, 1, static (_, n) => n + 1);
                Interlocked.Increment(ref byProcess[process]);
                Interlocked.Increment(ref total);
                return Task.CompletedTask;
            }));
            queue.AddHandler<SqliteTestJob, SqliteTestJobHandler>(BareStore.Queue, q =>
            {
                q.MaxConcurrency = 3;
                q.RateLimit = limit;
            }).UseSqlite(_database.ConnectionString);
        });

        await using var first = await StartProcess(0);
        await using var second = await StartProcess(1);
        for (var i = 0; i < Jobs; i++)
        {
            await (i % 2 == 0 ? first : second).Queue.EnqueueAsync(new SqliteTestJob(i));
        }

        // Each simulated second fills its window, and only then does the clock move; past the minute, the rest run.
        for (var window = 1; Volatile.Read(ref total) < Jobs; window++)
        {
            await WaitForAsync(() => Volatile.Read(ref total) >= Math.Min(Jobs, Permits * window));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.All(starts, window => Assert.InRange(window.Value, 1, Permits));
        var inMinute = starts.Where(w => w.Key < limit.WindowOf(Start) + Seconds).Sum(w => w.Value);
        Assert.InRange(inMinute, (Permits * Seconds) - Permits, Permits * Seconds);

        // Never failed or dropped by the limiter: every job ran, once; both processes took a share.
        Assert.Equal(Jobs, runs.Count);
        Assert.All(runs.Values, n => Assert.Equal(1, n));
        Assert.All(byProcess, n => Assert.True(n > 0));

        // The last handlers' completions commit after they return: wait for them, then nothing is left waiting or leased.
        await WaitForAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0);
    }

    /// <summary>Waits for a condition; the long limit turns a hang into a failure, it times nothing.</summary>
    private static async Task WaitForAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), "The starts never came.");
            await Task.Delay(5);
        }
    }
}
