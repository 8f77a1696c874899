using System.Globalization;
using System.Text.RegularExpressions;
using AsyncQueue.PostgreSql.Storage;
using AsyncQueue.Storage;
using Npgsql;
using Xunit.Abstractions;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// Issue 17: a fetch hands out the most urgent due job first, and jobs of one priority in due then enqueue order; a
/// retry keeps its priority; and the lease reads the fetch index one level at a time, so a backlog scheduled for later
/// costs a fetch nothing, whatever the planner's statistics.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed partial class PriorityTests(PostgreSqlServer server, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly string _schema = PostgreSqlServer.NewSchema();
    private readonly List<StoreProcess> _processes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    [Fact]
    public async Task Fetch_MixedPriorities_UrgentFirstThenHighNormalLowEachInEnqueueOrder()
    {
        var store = Open();
        JobPriority[] order = [JobPriority.Low, JobPriority.Normal, JobPriority.Urgent, JobPriority.High, JobPriority.Low, JobPriority.Urgent, JobPriority.Normal, JobPriority.High];
        for (var n = 0; n < order.Length; n++)
        {
            await store.EnqueueAsync(store.Job(n, order[n]));
            store.Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // An urgent job not yet due waits for its time, whatever its priority.
        await store.EnqueueAsync(store.Job(99, JobPriority.Urgent, notBefore: store.Time.GetUtcNow().AddMinutes(1)));

        var handedOut = new List<(int Number, JobPriority Priority)>();
        for (var n = 0; n < order.Length; n++)
        {
            var job = await store.FetchAsync().AsTask().WaitAsync(Guard);
            handedOut.Add((((WorkJob)job.Job).Number, job.Priority));
        }

        Assert.Equal(
            [(2, JobPriority.Urgent), (5, JobPriority.Urgent), (3, JobPriority.High), (7, JobPriority.High), (1, JobPriority.Normal), (6, JobPriority.Normal), (0, JobPriority.Low), (4, JobPriority.Low)],
            handedOut);

        store.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new WorkJob(99), (await store.FetchAsync().AsTask().WaitAsync(Guard)).Job);
    }

    [Fact]
    public async Task Fetch_BatchOfMixedPriorities_LeasesTheMostUrgentAndHandsThemOutInOrder()
    {
        // One lease of 4 for 4 waiting workers, out of 3 normal and 3 urgent jobs due: the urgent ones and the oldest normal.
        var store = Open();
        for (var n = 0; n < 6; n++)
        {
            await store.EnqueueAsync(store.Job(n, n % 2 == 0 ? JobPriority.Normal : JobPriority.Urgent));
            store.Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var consumer = store.Store.OpenConsumer(StoreProcess.Queue);
        var fetches = Enumerable.Range(0, 4).Select(_ => consumer.FetchAsync(CancellationToken.None).AsTask()).ToArray();
        var numbers = (await Task.WhenAll(fetches).WaitAsync(Guard)).Select(job => ((WorkJob)job.Job).Number).Order().ToArray();

        Assert.Equal([0, 1, 3, 5], numbers);
    }

    [Fact]
    public async Task Reschedule_HighJob_KeepsPriorityAheadOfOlderNormalJobs()
    {
        // The high job fails and retries in a minute; meanwhile a normal job is enqueued, due in 30 s: older when both
        // are due. Not due at once: the consumer's fetch loop, woken by the enqueue, would lease it before the retry.
        var store = Open();
        var high = await store.EnqueueAsync(store.Job(2, JobPriority.High));
        var first = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(high, first.Id);
        first.AddError(new JobError(1, store.Time.GetUtcNow(), "System.Exception", "again", null));
        await store.Store.RescheduleAsync(first, store.Time.GetUtcNow().AddMinutes(1), CancellationToken.None);
        var normal = await store.EnqueueAsync(store.Job(1, notBefore: store.Time.GetUtcNow().AddSeconds(30)));
        store.Time.Advance(TimeSpan.FromMinutes(1));

        var retry = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal((high, JobPriority.High, 2), (retry.Id, retry.Priority, retry.Attempt));
        Assert.Equal(normal, (await store.FetchAsync().AsTask().WaitAsync(Guard)).Id);

        // Dead-lettered and requeued, it keeps its priority too.
        await store.Store.DeadLetterAsync(retry, new DeadLetterTarget("priority-dead", TimeSpan.FromDays(1), 10), CancellationToken.None);
        Assert.True(await store.Store.DeadLetters.RequeueAsync(high));
        Assert.Equal(JobPriority.High, (await store.GetAsync(high)).Priority);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Lease_ManyJobsScheduledAheadAtEveryPriority_ReadsOneProbePerLevelUntilTheBatchIsFull(bool generic)
    {
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, _schema);
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();

        // 120,000 jobs scheduled for tomorrow at every level, urgent and high ones most of all; 20 normal and 20 low
        // ones due now. A lease of 10 must take 10 due normal ones, reading neither the backlog nor the low level.
        const long Now = 1_000_000_000;
        await ExecuteAsync(connection, $"""
            INSERT INTO {_schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held, priority)
            SELECT gen_random_uuid(), 'work', 'WorkJob', '{"{}"}', 0,
                CASE WHEN g <= 120000 THEN {Now} * 2 + g ELSE {Now} - g END, 0, g, false,
                CASE WHEN g <= 50000 THEN 3 WHEN g <= 100000 THEN 2 WHEN g <= 110000 THEN 1 WHEN g <= 120000 THEN 0 WHEN g <= 120020 THEN 1 ELSE 0 END
            FROM generate_series(1, 120040) AS g;
            ANALYZE {_schema}.jobs;
            SET plan_cache_mode = {(generic ? "force_generic_plan" : "force_custom_plan")};
            """);

        // Run for real (in a transaction rolled back), with the rows each plan node read.
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + new PostgreSqlStatements(_schema).Lease, connection, transaction)
            .Text("queue", StoreProcess.Queue).Long("now", Now).Int("limit", 10).Long("expires", Now + 1).Bool("isolated", true);
        var lines = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        await transaction.RollbackAsync();
        var plan = string.Join('\n', lines);
        output.WriteLine($"{(generic ? "generic" : "custom")} plan:\n{plan}");

        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
        var probes = lines.Where(line => line.Contains("Index Scan using jobs_fetch", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, probes.Count);

        // Urgent and high find nothing due (one index tuple each, not yet due, ends them), normal fills the batch, low is
        // never run; the update took 10 rows.
        Assert.Equal([0, 0, 10], probes.Take(3).Select(ActualRows));
        Assert.Contains("never executed", probes[3], StringComparison.Ordinal);
        Assert.Matches(@"Update on \S*jobs j \(actual rows=10 ", plan);
    }

    private static int ActualRows(string line) => int.Parse(ActualRowsPattern().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"actual rows=(\d+)")]
    private static partial Regex ActualRowsPattern();

    private StoreProcess Open()
    {
        var process = StoreProcess.Open(server.ConnectionString, _schema);
        _processes.Add(process);
        return process;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
