using AsyncQueue.Sqlite.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>The writer loop's group commit: many requests share a transaction, and one bad request fails alone.</summary>
public sealed class WriterTests : IDisposable
{
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task RunBatch_OneRequestFails_OnlyThatRequestFailsAndTheOthersCommit()
    {
        await using var store = BareStore.Open(_database, _time);
        var sqlite = (SqliteJobStore)store.Store;

        // Queued together, so that the writer takes them into one transaction (or a few).
        var enqueues = Enumerable.Range(0, 50).Select(i => store.Jobs.EnqueueAsync(new SqliteTestJob(i)).AsTask()).ToList();
        var failing = sqlite.RunAsync<int>("a request that fails", _ => throw new InvalidOperationException("bad request")).AsTask();
        enqueues.AddRange(Enumerable.Range(50, 50).Select(i => store.Jobs.EnqueueAsync(new SqliteTestJob(i)).AsTask()));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Equal("bad request", error.Message);
        Assert.All(await Task.WhenAll(enqueues), result => Assert.True(result.Accepted));
        Assert.Equal(100, (await store.Store.CountAsync(BareStore.Queue, CancellationToken.None)).Waiting);
    }
}
