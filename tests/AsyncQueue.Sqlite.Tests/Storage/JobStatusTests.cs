using System.Diagnostics.Metrics;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// Issue 17: a job's status by id through each of its states, and how long a finished job's status is kept: its
/// queue's retention (by the sweeper), its capacity (the oldest evicted early, and counted), never dropping a key still held.
/// </summary>
public sealed class JobStatusTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);
    private static readonly DeadLetterTarget Target = new("status-dead", TimeSpan.FromDays(1), 100);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task GetJob_ThroughEachState_ReportsStateTimesAndAttempts()
    {
        await using var store = BareStore.Open(_database, _time);
        var jobs = store.Store;

        Assert.Null(await jobs.GetJobAsync(JobId.NewId(), CancellationToken.None));

        var scheduled = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow(), JobPriority.High, notBefore: Start.AddHours(1)));
        var info = await GetAsync(store, scheduled);
        Assert.Equal(JobState.Scheduled, info.State);
        Assert.Equal(Start.AddHours(1), info.NextRunAt);
        Assert.Equal(JobPriority.High, info.Priority);
        Assert.Equal(0, info.Attempt);

        var id = await store.EnqueueAsync(BareStore.Job(2, _time.GetUtcNow(), key: "status-key", maxAttempts: 4));
        info = await GetAsync(store, id);
        Assert.Equal((JobState.Waiting, Start, Start), (info.State, info.EnqueuedAt, info.NextRunAt!.Value));
        Assert.Equal((4, "status-key"), (info.MaxAttempts!.Value, info.IdempotencyKey));

        _time.Advance(TimeSpan.FromSeconds(1));
        var running = await store.FetchAsync().AsTask().WaitAsync(Guard);
        info = await GetAsync(store, id);
        Assert.Equal((JobState.Running, 1, Start.AddSeconds(1)), (info.State, info.Attempt, info.StartedAt!.Value));
        Assert.Null(info.NextRunAt);
        Assert.False(info.CancellationRequested);

        running.AddError(new JobError(1, _time.GetUtcNow(), "System.TimeoutException", "slow", null));
        await jobs.RescheduleAsync(running, Start.AddMinutes(5), CancellationToken.None);
        info = await GetAsync(store, id);
        Assert.Equal((JobState.Retrying, 1, Start.AddMinutes(5)), (info.State, info.Attempt, info.NextRunAt!.Value));
        Assert.Equal("slow", Assert.Single(info.Errors).Message);

        _time.Advance(TimeSpan.FromMinutes(5));
        var second = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(id, second.Id);
        second.Result = "written to /out/2.csv";
        _time.Advance(TimeSpan.FromSeconds(3));
        await jobs.CompleteAsync(second, CancellationToken.None);
        info = await GetAsync(store, id);
        Assert.Equal((JobState.Succeeded, 2, "written to /out/2.csv"), (info.State, info.Attempt, info.Result));
        Assert.Equal(_time.GetUtcNow(), info.FinishedAt);
        Assert.Equal(Start.AddMinutes(5).AddSeconds(1), info.StartedAt);
        Assert.Single(info.Errors);

        var doomed = await store.EnqueueAsync(BareStore.Job(3, _time.GetUtcNow(), JobPriority.Low));
        var leased = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(doomed, leased.Id);
        leased.AddError(new JobError(1, _time.GetUtcNow(), "System.InvalidOperationException", "bad", null));
        await jobs.DeadLetterAsync(leased, Target, CancellationToken.None);
        info = await GetAsync(store, doomed);
        Assert.Equal((JobState.DeadLettered, Target.Name, JobPriority.Low), (info.State, info.DeadLetterQueue, info.Priority));
        Assert.Equal(_time.GetUtcNow(), info.FinishedAt);

        var cancelled = await store.EnqueueAsync(BareStore.Job(4, _time.GetUtcNow()));
        Assert.Equal(CancelJobResult.Cancelled, await jobs.CancelAsync(cancelled, CancellationToken.None));
        info = await GetAsync(store, cancelled);
        Assert.Equal((JobState.Cancelled, 0), (info.State, info.Attempt));
        Assert.Equal(_time.GetUtcNow(), info.FinishedAt);
    }

    [Fact]
    public async Task Sweep_SucceededJobPastFinishedJobRetention_ForgetsItsStatus()
    {
        await using var store = BareStore.Open(_database, _time, q => q.FinishedJobRetention = TimeSpan.FromHours(1));
        var id = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);

        // The sweeper runs every 5 seconds of the fake clock: at 59:55 the status is still within its hour.
        _time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(55));
        await store.BarrierAsync();
        Assert.Equal(JobState.Succeeded, (await GetAsync(store, id)).State);

        _time.Advance(TimeSpan.FromSeconds(5));
        await store.BarrierAsync();
        Assert.Null(await store.Store.GetJobAsync(id, CancellationToken.None));
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs"));
    }

    [Fact]
    public async Task Sweep_StatusExpiredButKeyRetained_KeepsRowUntilKeyExpiresAndKeyRefusesDuplicates()
    {
        await using var store = BareStore.Open(_database, _time, q =>
        {
            q.FinishedJobRetention = TimeSpan.FromMinutes(10);
            q.IdempotencyRetention = TimeSpan.FromMinutes(30);
        });
        var id = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow(), key: "k-1"));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(20));
        await store.BarrierAsync();
        Assert.Equal(JobState.Succeeded, (await GetAsync(store, id)).State);
        Assert.Equal(EnqueueStatus.Duplicate, (await store.Store.EnqueueAsync(BareStore.Job(2, _time.GetUtcNow(), key: "k-1"), CancellationToken.None)).Status);

        _time.Advance(TimeSpan.FromMinutes(11));
        await store.BarrierAsync();
        Assert.Null(await store.Store.GetJobAsync(id, CancellationToken.None));
        Assert.Equal(EnqueueStatus.Accepted, (await store.Store.EnqueueAsync(BareStore.Job(3, _time.GetUtcNow(), key: "k-1"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Sweep_MoreFinishedJobsThanCapacity_EvictsOldestCountsThemAndKeepsHeldKeys()
    {
        var evicted = new List<(long Count, string? Queue)>();
        await using var store = BareStore.Open(_database, _time, q => q.FinishedJobCapacity = 3, configureServices: services => services.AddMetrics());
        using var listener = ListenForEvictions(store, evicted);

        // Five jobs finish a second apart (the last one cancelled); the oldest holds its idempotency key (retained for a
        // day by default).
        var ids = new List<JobId>();
        for (var n = 0; n < 5; n++)
        {
            ids.Add(await store.EnqueueAsync(BareStore.Job(n, _time.GetUtcNow(), key: n == 0 ? "held" : null)));
            var job = await store.FetchAsync().AsTask().WaitAsync(Guard);
            await (n == 4 ? store.Store.MarkCancelledAsync(job, CancellationToken.None) : store.Store.CompleteAsync(job, CancellationToken.None));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        _time.Advance(TimeSpan.FromSeconds(5));
        await store.BarrierAsync();

        // Kept: the newest three without a key (2, 3 and the cancelled 4), and the key holder 0: its key must keep
        // refusing duplicates, and it does not count against the capacity (the keys have their own bound).
        var kept = new List<int>();
        for (var n = 0; n < ids.Count; n++)
        {
            if (await store.Store.GetJobAsync(ids[n], CancellationToken.None) is not null)
            {
                kept.Add(n);
            }
        }

        Assert.Equal([0, 2, 3, 4], kept);
        Assert.Equal((1L, BareStore.Queue), Assert.Single(evicted));
        Assert.Equal(EnqueueStatus.Duplicate, (await store.Store.EnqueueAsync(BareStore.Job(9, _time.GetUtcNow(), key: "held"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Complete_QueueKeepingNoStatus_DeletesRowAtOnce()
    {
        await using var store = BareStore.Open(_database, _time, q => q.FinishedJobRetention = TimeSpan.Zero);
        var id = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);

        Assert.Null(await store.Store.GetJobAsync(id, CancellationToken.None));
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs"));
    }

    private static async Task<JobInfo> GetAsync(BareStore store, JobId id) =>
        await store.Store.GetJobAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"Job {id} has no status.");

    /// <summary>Counts the evictions of this store's meter only (tests run in parallel, each with its own stores).</summary>
    private static MeterListener ListenForEvictions(BareStore store, List<(long Count, string? Queue)> evicted)
    {
        var factory = store.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "asyncqueue.job.status.evicted" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? queue = null;
            foreach (var tag in tags)
            {
                queue = tag.Key == "messaging.destination.name" ? tag.Value as string : queue;
            }

            lock (evicted)
            {
                evicted.Add((value, queue));
            }
        });
        listener.Start();
        return listener;
    }
}
