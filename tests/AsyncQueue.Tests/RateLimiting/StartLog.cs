using System.Diagnostics;
using System.Collections.Concurrent;
using AsyncQueue.RateLimiting;

namespace AsyncQueue.Tests.RateLimiting;

/// <summary>Records each job's start by (key, window), read on the fake clock the queue runs on.</summary>
public sealed class StartLog(TimeProvider time, JobRateLimit limit)
{
    private readonly ConcurrentDictionary<(string Key, long Window), int> _starts = new();
    private readonly ConcurrentDictionary<int, int> _runs = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public IReadOnlyDictionary<(string Key, long Window), int> Starts => _starts;

    /// <summary>Gets how many times each job number ran.</summary>
    public IReadOnlyDictionary<int, int> Runs => _runs;

    public void Started(int number, string key)
    {
        _starts.AddOrUpdate((key, limit.WindowOf(time.GetUtcNow())), 1, static (_, n) => n + 1);
        _runs.AddOrUpdate(number, 1, static (_, n) => n + 1);
        Interlocked.Increment(ref _total);
    }

    /// <summary>Waits until <paramref name="count"/> starts are recorded; the long limit turns a hang into a failure, it times nothing.</summary>
    public async Task WaitForAsync(int count)
    {
        var waited = Stopwatch.StartNew();
        while (Total < count)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), $"Only {Total} of {count} starts came.");
            await Task.Delay(5);
        }
    }
}
