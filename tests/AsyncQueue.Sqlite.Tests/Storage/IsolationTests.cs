using AsyncQueue.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>Isolated suspects take their turn by due time: never behind a backlog of jobs that fell due after them, never two at once.</summary>
public sealed class IsolationTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Fetch_IsolatedJobDueBeforeTheWaitingOnes_IsHandedOutFirst()
    {
        var time = new FakeTimeProvider(Start);
        await using var store = BareStore.Open(_database, time);
        var consumer = store.Store.OpenConsumer(BareStore.Queue);
        await store.Jobs.EnqueueAsync(new SqliteTestJob(1));
        var suspect = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(1));
        await store.Jobs.EnqueueBatchAsync([new SqliteTestJob(2), new SqliteTestJob(3)]);

        // Handed back as a suspect, due from when it first was: before jobs 2 and 3.
        suspect.Attempt--;
        suspect.Isolated = true;
        await store.Store.RescheduleAsync(suspect, Start, CancellationToken.None);

        var next = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(new SqliteTestJob(1), next.Job);
        Assert.True(next.Isolated);
        Assert.Equal(1, next.Attempt);
    }

    [Fact]
    public async Task Fetch_IsolatedJobDueAfterTheWaitingOnes_WaitsForThem()
    {
        var time = new FakeTimeProvider(Start);
        await using var store = BareStore.Open(_database, time);
        var consumer = store.Store.OpenConsumer(BareStore.Queue);
        await store.Jobs.EnqueueBatchAsync([new SqliteTestJob(1), new SqliteTestJob(2)]);
        var suspect = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(1));

        suspect.Attempt--;
        suspect.Isolated = true;
        await store.Store.RescheduleAsync(suspect, time.GetUtcNow(), CancellationToken.None);

        Assert.Equal(new SqliteTestJob(2), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard)).Job);
        Assert.Equal(new SqliteTestJob(1), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard)).Job);
    }
}
