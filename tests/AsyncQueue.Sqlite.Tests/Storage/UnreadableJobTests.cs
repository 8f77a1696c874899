using AsyncQueue.Conformance;
using System.Collections.Concurrent;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>Rows that name an unknown kind, or whose payload does not deserialize, are dead-lettered with the reason, never run.</summary>
public sealed class UnreadableJobTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    private sealed class Observer(ConcurrentQueue<DeadLetterEntry> entries) : IDeadLetterObserver
    {
        public ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
        {
            entries.Enqueue(entry);
            return default;
        }
    }

    [Fact]
    public async Task Fetch_UnknownKindAndCorruptPayloadRows_DeadLettersThemWithReasonsAfterZeroRetries()
    {
        var time = new FakeTimeProvider(Start);
        await using (BareStore.Open(_database, time))
        {
            // Creates the tables; then a foreign writer leaves two bad rows ahead of a good job.
        }

        _database.InsertRawJob(BareStore.Queue, "no-such-kind", """{"Number":1}""", Start);
        _database.InsertRawJob(BareStore.Queue, "sqlite-test-job", """{"Number": 2, trunc""", Start);
        var ran = new ConcurrentQueue<int>();
        var deadLettered = new ConcurrentQueue<DeadLetterEntry>();
        await using var host = await JobQueueTestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(new SqliteTestJobHandler.Behaviour((job, _) =>
            {
                ran.Enqueue(job.Number);
                return Task.CompletedTask;
            }));
            services.AddSingleton<IDeadLetterObserver>(new Observer(deadLettered));
            queue.AddHandler<SqliteTestJob, SqliteTestJobHandler>(BareStore.Queue, q => q.MaxConcurrency = 1).UseSqlite(_database.ConnectionString);
        });

        await host.Queue.EnqueueAsync(new SqliteTestJob(3));
        await Poll.UntilAsync(() => deadLettered.Count == 2 && ran.Count == 1, "both bad rows are dead-lettered and the good job ran");

        Assert.Equal([3], ran);
        var entries = deadLettered.OrderBy(e => e.Kind, StringComparer.Ordinal).ToArray();
        var unknown = entries[0];
        Assert.Equal("no-such-kind", unknown.Kind);
        Assert.Equal(new UnreadableJob("no-such-kind", """{"Number":1}""", "No handler is registered for job kind 'no-such-kind'.", "AsyncQueue.UnknownJobKind"), unknown.Job);
        Assert.Equal("No handler is registered for job kind 'no-such-kind'.", Assert.Single(unknown.Errors).Message);

        var corrupt = entries[1];
        var payload = Assert.IsType<UnreadableJob>(corrupt.Job);
        Assert.Equal("""{"Number": 2, trunc""", payload.Payload);
        var error = Assert.Single(corrupt.Errors);
        Assert.StartsWith("The stored payload of kind 'sqlite-test-job' does not deserialize into SqliteTestJob:", error.Message, StringComparison.Ordinal);
        Assert.Equal("System.Text.Json.JsonException", error.ExceptionType);

        // Zero retries: one attempt each, and they are gone from the jobs table.
        Assert.All(entries, e => Assert.Equal(1, e.Attempts));
        Assert.All(entries, e => Assert.Equal(BareStore.Queue + "-dead-letter", e.DeadLetterQueue));
        Assert.Equal(2, await host.Services.GetRequiredService<IDeadLetterQueue>().CountAsync(BareStore.Queue + "-dead-letter"));
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2"));
    }

    [Fact]
    public async Task DeadLetterQueue_EntryOfUnreadableRow_ListsStoredTextNotAnInstance()
    {
        var time = new FakeTimeProvider(Start);
        await using (BareStore.Open(_database, time))
        {
        }

        _database.InsertRawJob(BareStore.Queue, "System.Diagnostics.Process", """{"StartInfo":{"FileName":"rm"}}""", Start);
        await using var store = BareStore.Open(_database, time);

        // The store hands the row out as what it is, never as an instance of the type it names; the dispatcher dead-letters it.
        var fetched = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.IsType<UnreadableJob>(fetched.Job);
        await store.Store.DeadLetterAsync(fetched, new DeadLetterTarget(BareStore.Queue + "-dead-letter", TimeSpan.FromDays(1), 100), CancellationToken.None);

        var entry = Assert.Single(await store.DeadLetters.ListAsync(BareStore.Queue + "-dead-letter"));
        var job = Assert.IsType<UnreadableJob>(entry.Job);
        Assert.Equal("System.Diagnostics.Process", job.Kind);
        Assert.Equal("""{"StartInfo":{"FileName":"rm"}}""", job.Payload);
    }
}
