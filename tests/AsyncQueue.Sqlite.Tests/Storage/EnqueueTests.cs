using AsyncQueue.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>What the SQLite store adds to enqueueing beyond the conformance suite: bounded queues and persisted fields.</summary>
public sealed class EnqueueTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Enqueue_BoundedQueueFullInThrowMode_ThrowsAndStoresNothingOfTheBatch()
    {
        await using var store = BareStore.Open(_database, _time, q =>
        {
            q.Capacity = 3;
            q.FullMode = QueueFullMode.Throw;
        });
        await store.Jobs.EnqueueBatchAsync([new SqliteTestJob(1), new SqliteTestJob(2)]);

        var full = await Assert.ThrowsAsync<JobQueueFullException>(() => store.Jobs.EnqueueBatchAsync([new SqliteTestJob(3), new SqliteTestJob(4)]).AsTask());

        Assert.Equal(3, full.Capacity);
        Assert.Equal(2, (await store.Store.CountAsync(BareStore.Queue, CancellationToken.None)).Waiting);

        // Delayed jobs take no room until they fall due.
        await store.Jobs.EnqueueAsync(new SqliteTestJob(5), new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) });
        await store.Jobs.EnqueueAsync(new SqliteTestJob(6));
        Assert.Equal(4, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs"));
    }

    [Fact]
    public async Task Enqueue_BoundedQueueFullInWaitMode_WaitsUntilAWorkerTakesAJob()
    {
        await using var store = BareStore.Open(_database, _time, q => q.Capacity = 1);
        await store.Jobs.EnqueueAsync(new SqliteTestJob(1));

        var waiting = store.Jobs.EnqueueAsync(new SqliteTestJob(2)).AsTask();
        var taken = await store.FetchAsync().AsTask().WaitAsync(Guard);
        var second = await waiting.WaitAsync(Guard);

        Assert.Equal(new SqliteTestJob(1), taken.Job);
        Assert.True(second.Accepted);
        Assert.Equal(1, (await store.Store.CountAsync(BareStore.Queue, CancellationToken.None)).Waiting);
    }

    [Fact]
    public async Task Fetch_AfterRestart_RecordKeepsEveryPersistedField()
    {
        var enqueued = new JobRecord(JobId.NewId(), "sqlite-test-job", BareStore.Queue, new SqliteTestJob(9), Start)
        {
            IdempotencyKey = "key-9",
            MaxAttempts = 5,
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            TraceState = "vendor=1",
        };
        await using (var first = BareStore.Open(_database, _time))
        {
            await first.Store.EnqueueAsync(enqueued, CancellationToken.None);
        }

        await using var second = BareStore.Open(_database, _time);
        var fetched = await second.FetchAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(enqueued.Id, fetched.Id);
        Assert.Equal(new SqliteTestJob(9), fetched.Job);
        Assert.Equal("key-9", fetched.IdempotencyKey);
        Assert.Equal(5, fetched.MaxAttempts);
        Assert.Equal(Start, fetched.EnqueuedAt);
        Assert.Equal(enqueued.TraceParent, fetched.TraceParent);
        Assert.Equal("vendor=1", fetched.TraceState);
        Assert.Equal(1, fetched.Attempt);
        Assert.Null(fetched.NotBefore);
    }
}
