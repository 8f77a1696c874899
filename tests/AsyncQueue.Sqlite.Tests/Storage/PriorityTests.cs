using AsyncQueue.Sqlite.Storage;
using AsyncQueue.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using SQLitePCL;
using Xunit.Abstractions;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// Issue 17: a fetch hands out the most urgent due job first, and jobs of one priority in due then enqueue order; a
/// retry keeps its priority; and the lease reads the fetch index one level at a time, so a backlog scheduled for later
/// costs a fetch nothing.
/// </summary>
public sealed class PriorityTests(ITestOutputHelper output) : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Fetch_MixedPriorities_UrgentFirstThenHighNormalLowEachInEnqueueOrder()
    {
        await using var store = BareStore.Open(_database, _time);
        JobPriority[] order = [JobPriority.Low, JobPriority.Normal, JobPriority.Urgent, JobPriority.High, JobPriority.Low, JobPriority.Urgent, JobPriority.Normal, JobPriority.High];
        for (var n = 0; n < order.Length; n++)
        {
            await store.EnqueueAsync(BareStore.Job(n, _time.GetUtcNow(), order[n]));
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // An urgent job not yet due waits for its time, whatever its priority.
        await store.EnqueueAsync(BareStore.Job(99, _time.GetUtcNow(), JobPriority.Urgent, notBefore: _time.GetUtcNow().AddMinutes(1)));

        var handedOut = new List<(int Number, JobPriority Priority)>();
        for (var n = 0; n < order.Length; n++)
        {
            var job = await store.FetchAsync().AsTask().WaitAsync(Guard);
            handedOut.Add((((SqliteTestJob)job.Job).Number, job.Priority));
        }

        Assert.Equal(
            [(2, JobPriority.Urgent), (5, JobPriority.Urgent), (3, JobPriority.High), (7, JobPriority.High), (1, JobPriority.Normal), (6, JobPriority.Normal), (0, JobPriority.Low), (4, JobPriority.Low)],
            handedOut);

        _time.Advance(TimeSpan.FromMinutes(1));
        var late = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(new SqliteTestJob(99), late.Job);
    }

    [Fact]
    public async Task Reschedule_HighJob_KeepsPriorityAheadOfOlderNormalJobs()
    {
        await using var store = BareStore.Open(_database, _time);
        var normal = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        var high = await store.EnqueueAsync(BareStore.Job(2, _time.GetUtcNow(), JobPriority.High));

        var first = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(high, first.Id);
        first.AddError(new JobError(1, _time.GetUtcNow(), "System.Exception", "again", null));
        await store.Store.RescheduleAsync(first, _time.GetUtcNow(), CancellationToken.None);

        var retry = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal((high, JobPriority.High, 2), (retry.Id, retry.Priority, retry.Attempt));
        Assert.Equal(normal, (await store.FetchAsync().AsTask().WaitAsync(Guard)).Id);

        // Dead-lettered and requeued, it keeps its priority too.
        await store.Store.DeadLetterAsync(retry, new DeadLetterTarget("priority-dead", TimeSpan.FromDays(1), 10), CancellationToken.None);
        Assert.True(await store.DeadLetters.RequeueAsync(high));
        Assert.Equal(JobPriority.High, (await store.Store.GetJobAsync(high, CancellationToken.None))!.Priority);
    }

    [Fact]
    public async Task Lease_ManyJobsScheduledAheadAtEveryPriority_ReadsOneIndexRangePerLevelAndFewRows()
    {
        // The schema, made by a store.
        await BareStore.Open(_database, _time).DisposeAsync();

        // 120,000 jobs scheduled for tomorrow at every level, urgent and high ones most of all; 20 normal and 20 low
        // ones due now. A fetch of 10 must take 10 due normal ones without reading the scheduled backlog.
        var now = Start.UtcTicks;
        var tomorrow = Start.AddDays(1).UtcTicks;
        using var connection = new SqliteConnection(_database.ConnectionString + ";Pooling=False");
        connection.Open();
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = $"""
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 120040)
                INSERT INTO asyncqueue_jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held, priority)
                SELECT randomblob(16), '{BareStore.Queue}', 'sqlite-test-job', '{"{}"}', 0,
                    CASE WHEN n <= 120000 THEN {tomorrow} + n ELSE {now} - n END, 0, {now} - 200000 + n, 0,
                    CASE WHEN n <= 50000 THEN 3 WHEN n <= 100000 THEN 2 WHEN n <= 110000 THEN 1 WHEN n <= 120000 THEN 0 WHEN n <= 120020 THEN 1 ELSE 0 END
                FROM g;
                ANALYZE;
                """;
            insert.ExecuteNonQuery();
        }

        var plan = new List<string>();
        using (var explain = connection.CreateCommand())
        {
            explain.CommandText = "EXPLAIN QUERY PLAN " + SqliteStatements.LeaseSql;
            Bind(explain, now);
            using var reader = explain.ExecuteReader();
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        output.WriteLine(string.Join('\n', plan));
        // One range of the fetch index per level of the IN list (priority=?), in the ORDER BY's order: no sort, no scan.
        Assert.Contains(plan, line => line.Contains("USING INDEX asyncqueue_jobs_fetch (queue=? AND priority=? AND run_at<?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN asyncqueue_jobs", StringComparison.Ordinal) || line.Contains("TEMP B-TREE", StringComparison.Ordinal));

        // Run it: the virtual machine's steps measure the rows it read (a scan of the backlog would take hundreds of thousands).
        var handle = connection.Handle!;
        Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(handle, SqliteStatements.LeaseSql, out var statement));
        using (statement)
        {
            BindRaw(statement, now);
            var leased = new List<long>();
            while (raw.sqlite3_step(statement) == raw.SQLITE_ROW)
            {
                leased.Add(raw.sqlite3_column_int64(statement, 14));
            }

            var steps = raw.sqlite3_stmt_status(statement, raw.SQLITE_STMTSTATUS_VM_STEP, 0);
            output.WriteLine($"leased {leased.Count} in {steps} VM steps");
            Assert.Equal(Enumerable.Repeat(1L, 10), leased);
            Assert.InRange(steps, 1, 5_000);
        }
    }

    private static void Bind(SqliteCommand command, long now)
    {
        command.Parameters.AddWithValue("$token", 1L);
        command.Parameters.AddWithValue("$expires", now + TimeSpan.TicksPerMinute);
        command.Parameters.AddWithValue("$queue", BareStore.Queue);
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$limit", 10);
    }

    private static void BindRaw(sqlite3_stmt statement, long now)
    {
        raw.sqlite3_bind_int64(statement, raw.sqlite3_bind_parameter_index(statement, "$token"), 1);
        raw.sqlite3_bind_int64(statement, raw.sqlite3_bind_parameter_index(statement, "$expires"), now + TimeSpan.TicksPerMinute);
        raw.sqlite3_bind_text(statement, raw.sqlite3_bind_parameter_index(statement, "$queue"), BareStore.Queue);
        raw.sqlite3_bind_int64(statement, raw.sqlite3_bind_parameter_index(statement, "$now"), now);
        raw.sqlite3_bind_int64(statement, raw.sqlite3_bind_parameter_index(statement, "$limit"), 10);
    }
}
