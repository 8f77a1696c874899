using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// Issue 17: a paused queue accepts jobs and hands none out, in every process on the file and across a restart, until
/// it is resumed; what a process leased for its workers and they have not taken goes back without spending an attempt.
/// </summary>
public sealed class PauseTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 3, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Fetch_PausedQueue_HandsOutNothingUntilResumed()
    {
        await using var store = BareStore.Open(_database, _time);
        await store.Store.SetPausedAsync(BareStore.Queue, paused: true, CancellationToken.None);
        var id = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        var fetch = store.FetchAsync().AsTask();

        // Past several polls, each followed by a request through the writer that proves the poll ran.
        for (var poll = 0; poll < 3; poll++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await store.BarrierAsync();
        }

        Assert.False(fetch.IsCompleted);
        var counts = await store.Store.CountAsync(BareStore.Queue, CancellationToken.None);
        Assert.True(counts.Paused);
        Assert.Equal(1, counts.Waiting);
        Assert.Equal(JobState.Waiting, (await store.Store.GetJobAsync(id, CancellationToken.None))!.State);

        // A resume in this process wakes its idle worker at once, without a poll.
        await store.Store.SetPausedAsync(BareStore.Queue, paused: false, CancellationToken.None);
        Assert.Equal(id, (await fetch.WaitAsync(Guard)).Id);
        Assert.False((await store.Store.CountAsync(BareStore.Queue, CancellationToken.None)).Paused);
    }

    [Fact]
    public async Task Pause_ThenNewStoreOnSameFile_IsStillPausedUntilResumedThere()
    {
        await using (var before = BareStore.Open(_database, _time))
        {
            await before.Store.SetPausedAsync(BareStore.Queue, paused: true, CancellationToken.None);
            await before.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        }

        await using var after = BareStore.Open(_database, _time);
        Assert.True((await after.Store.CountAsync(BareStore.Queue, CancellationToken.None)).Paused);
        var fetch = after.FetchAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        await after.BarrierAsync();
        Assert.False(fetch.IsCompleted);

        await after.Store.SetPausedAsync(BareStore.Queue, paused: false, CancellationToken.None);
        Assert.Equal(new SqliteTestJob(1), (await fetch.WaitAsync(Guard)).Job);
    }

    [Fact]
    public async Task Resume_ByAnotherProcess_IsSeenAtThisProcesssNextPoll()
    {
        var otherClock = new FakeTimeProvider(Start);
        await using var worker = BareStore.Open(_database, _time);
        await using var admin = BareStore.Open(_database, otherClock);
        await admin.Store.SetPausedAsync(BareStore.Queue, paused: true, CancellationToken.None);
        await admin.EnqueueAsync(BareStore.Job(1, otherClock.GetUtcNow()));
        var fetch = worker.FetchAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        await worker.BarrierAsync();
        Assert.False(fetch.IsCompleted);
        Assert.True((await worker.Store.CountAsync(BareStore.Queue, CancellationToken.None)).Paused);

        await admin.Store.SetPausedAsync(BareStore.Queue, paused: false, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new SqliteTestJob(1), (await fetch.WaitAsync(Guard)).Job);
    }

    [Fact]
    public async Task Pause_JobLeasedForWorkerNotYetTaken_IsHandedBackWithoutSpendingAnAttempt()
    {
        await using var store = BareStore.Open(_database, _time);
        await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        var second = await store.EnqueueAsync(BareStore.Job(2, _time.GetUtcNow()));
        var first = await store.FetchAsync().AsTask().WaitAsync(Guard);

        // Completing the first leases the second for this worker's coming fetch; the pause comes before that fetch.
        await store.Store.CompleteAsync(first, CancellationToken.None);
        await store.Store.SetPausedAsync(BareStore.Queue, paused: true, CancellationToken.None);
        await store.BarrierAsync();

        Assert.Equal([0L, 0L], _database.Rows("SELECT state, attempt FROM asyncqueue_jobs WHERE state < 2").Single());
        var fetch = store.FetchAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        await store.BarrierAsync();
        Assert.False(fetch.IsCompleted);

        await store.Store.SetPausedAsync(BareStore.Queue, paused: false, CancellationToken.None);
        var job = await fetch.WaitAsync(Guard);
        Assert.Equal((second, 1), (job.Id, job.Attempt));
    }
}
