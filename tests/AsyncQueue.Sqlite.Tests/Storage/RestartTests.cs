using AsyncQueue.Conformance;
using System.Collections.Concurrent;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>A host restarted on the same file picks up delayed jobs and pending retries, each at its time, not before.</summary>
public sealed class RestartTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 9, 1, 6, 0, 0, TimeSpan.Zero);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly ConcurrentQueue<(int Number, int Attempt, DateTimeOffset At)> _runs = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Restart_SameFile_ResumesDelayedJobsAndPendingRetriesAtTheirTimes()
    {
        await using (var before = await StartHostAsync())
        {
            // Job 1 fails its first attempt and is to retry in 5 minutes; job 2 is delayed by 10 minutes.
            await before.Queue.EnqueueAsync(new SqliteTestJob(1));
            await before.Queue.EnqueueAsync(new SqliteTestJob(2), new EnqueueOptions { Delay = TimeSpan.FromMinutes(10) });
            await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 0 AND attempt = 1") == 1, "job 1 failed and waits for its retry");
        }

        await using var after = await StartHostAsync();
        var store = after.Services.GetRequiredService<IJobStore>();
        // A request through the store's writer: when it returns, every earlier timer's lease has been made.
        var barrier = store.DeadLetters;

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        await barrier.CountAsync("none");
        Assert.Equal(0, (await store.CountAsync(BareStore.Queue, CancellationToken.None)).Waiting);
        Assert.Single(_runs);

        _time.Advance(TimeSpan.FromTicks(1));
        await Poll.UntilAsync(() => _runs.Count == 2, "the retry ran after the restart");

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        await barrier.CountAsync("none");
        Assert.Equal(2, _runs.Count);

        _time.Advance(TimeSpan.FromTicks(1));
        await Poll.UntilAsync(() => _runs.Count == 3, "the delayed job ran after the restart");

        Assert.Equal(
            [(1, 1, Start), (1, 2, Start + TimeSpan.FromMinutes(5)), (2, 1, Start + TimeSpan.FromMinutes(10))],
            _runs);
        await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "both jobs are done");
    }

    private Task<JobQueueTestHost> StartHostAsync() => JobQueueTestHost.StartAsync((services, queue) =>
    {
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(new SqliteTestJobHandler.Behaviour((job, context) =>
        {
            _runs.Enqueue((job.Number, context.Attempt, _time.GetUtcNow()));
            return job.Number == 1 && context.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask;
        }));
        queue.AddHandler<SqliteTestJob, SqliteTestJobHandler>(BareStore.Queue, q =>
        {
            q.MaxConcurrency = 2;
            q.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMinutes(5));
        }).UseSqlite(_database.ConnectionString);
    });
}
