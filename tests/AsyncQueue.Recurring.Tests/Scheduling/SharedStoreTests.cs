using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Recurring.Tests.Scheduling;

/// <summary>
/// Two hosts on one SQLite file, each on its own fake clock, both enqueueing every tick of one schedule: the first
/// enqueue of a tick is accepted, the second refused by the tick's key, and each tick's job runs once. (Three real
/// processes on PostgreSQL: tests/AsyncQueue.PostgreSql.Tests/Crash/RecurringAcrossProcessesTests.cs.)
/// </summary>
public sealed class SharedStoreTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 9, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Ten = new(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-recurring-").FullName;

    private string ConnectionString => $"Data Source={Path.Combine(_folder, "jobs.db")}";

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task TwoHostsOneFile_FiveTicks_EachTickEnqueuedAndRunOnce()
    {
        var recorder = new TickRecorder();
        await using var first = await StartAsync(recorder);
        await using var second = await StartAsync(recorder);
        DateTimeOffset?[] ticks = [.. Enumerable.Range(0, 5).Select(h => (DateTimeOffset?)Ten.AddHours(h))];

        foreach (var tick in ticks)
        {
            await first.AdvanceToAsync(tick!.Value);
            await second.AdvanceToAsync(tick.Value);

            // The second host handled the tick too (its enqueue refused by the key): it shows as its last run.
            Assert.Equal(tick, second.Jobs.List().Single().LastRun);
        }

        await Poll.UntilAsync(() => recorder.Ticks.Count >= ticks.Length, "every tick's job ran");

        Assert.Equal(ticks, recorder.Ticks);
        Assert.Equal(ticks.Length, JobsInFile());
    }

    private Task<RecurringHost> StartAsync(TickRecorder recorder) =>
        RecurringHost.StartAsync(new FakeTimeProvider(Start), queue => queue.UseSqlite(ConnectionString).AddRecurringJob("hourly", "0 * * * *", () => new TickJob()), recorder);

    private long JobsInFile()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM asyncqueue_jobs";
        return (long)command.ExecuteScalar()!;
    }
}
