using AsyncQueue.PostgreSql.Storage;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// The sweeper, driven by hand on fake clocks (its timer is set to an hour, longer than any test advances): one process
/// sweeps at a time, and pruning works in bounded batches from the oldest.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class SweepTests(PostgreSqlServer server) : IAsyncLifetime
{
    private const string Queue = "work";
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly string _schema = PostgreSqlServer.NewSchema();
    private readonly List<ServiceProvider> _providers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sweep_AnotherProcessSweeping_SkipsItsTurnAndRescuesNothingUntilTheLockIsFree()
    {
        // Process A leases a job and then stops heartbeating (its clock never moves). B's dispatcher runs its rescue.
        // A waits for its completions' commits, so its late one reports the fencing (queued, it would only be logged).
        var (a, _) = Open(options => options.AsynchronousCompletions = false);
        var (b, bTime) = Open();
        var rescue = b.OpenExpiredLeaseConsumer().FetchAsync(CancellationToken.None).AsTask();
        await a.EnqueueAsync(Job(1), CancellationToken.None);
        var leased = await a.OpenConsumer(Queue).FetchAsync(CancellationToken.None);

        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using (var otherSweeper = await dataSource.OpenConnectionAsync())
        await using (var turn = await otherSweeper.BeginTransactionAsync())
        {
            // Another process's sweep holds the lock (taken before B's clock passes the lease, so no sweep of B's
            // could have rescued the job earlier, not even the one each store starts with).
            await using var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('asyncqueue.sweep.' || @schema, 0))", otherSweeper, turn);
            take.Parameters.AddWithValue("schema", _schema);
            await take.ExecuteNonQueryAsync();
            bTime.Advance(TimeSpan.FromMinutes(5));

            Assert.False(await ((PostgreSqlJobStore)b).SweepAsync(CancellationToken.None));
            Assert.Equal((1, 1), await StateAndAttemptAsync(dataSource, leased.Id));
            Assert.Equal(((PostgreSqlLease)leased.StoreData!).Token, await LeaseTokenAsync(dataSource, leased.Id));
            Assert.False(rescue.IsCompleted);
        }

        // The other sweeper's transaction ended, and with it its lock: B sweeps and rescues the expired lease. The rescue
        // takes it over for B's dispatcher to decide (it stays leased, now to B, as the same attempt): A's late outcome
        // is fenced out.
        await Poll.UntilAsync(() => ((PostgreSqlJobStore)b).SweepAsync(CancellationToken.None), "B took its sweeping turn");
        var rescued = await rescue.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(leased.Id, rescued.Id);
        Assert.Equal(1, rescued.Attempt);
        Assert.False(rescued.StartRecorded);
        Assert.Equal((1, 1), await StateAndAttemptAsync(dataSource, leased.Id));
        Assert.Equal(((PostgreSqlLease)rescued.StoreData!).Token, await LeaseTokenAsync(dataSource, leased.Id));
        await Assert.ThrowsAsync<JobLeaseLostException>(() => a.CompleteAsync(leased, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Sweep_MoreSucceededKeysThanTheBound_FreesTheOldestInBatchesKeepingTheNewest()
    {
        // 700 keys of succeeded jobs, one per second of the fake clock: more than two sweep batches past the bound of 100.
        const int Keys = 700;
        const int Kept = 100;
        var (store, time) = Open(options => options.MaxRetainedKeys = Kept);
        var consumer = store.OpenConsumer(Queue);
        for (var n = 0; n < Keys; n++)
        {
            await store.EnqueueAsync(Job(n, key: $"key-{n}"), CancellationToken.None);
            await store.CompleteAsync(await consumer.FetchAsync(CancellationToken.None), CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await Poll.UntilAsync(async () => await RetainedKeysAsync(dataSource) == Keys, "every completion was written");
        Assert.True(await ((PostgreSqlJobStore)store).SweepAsync(CancellationToken.None));

        var left = await RetainedKeyNumbersAsync(dataSource);
        Assert.Equal(Enumerable.Range(Keys - Kept, Kept), left);
        Assert.Equal(EnqueueStatus.Duplicate, (await store.EnqueueAsync(Job(Keys - 1, key: $"key-{Keys - 1}"), CancellationToken.None)).Status);
        Assert.Equal(EnqueueStatus.Accepted, (await store.EnqueueAsync(Job(0, key: "key-0"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Sweep_ExpiredKeysBeyondOneBatch_FreesThemAll()
    {
        // Kept for 10 minutes, then 20 pass: less than the sweeper's hourly timer, so only this test sweeps.
        const int Keys = 600;
        var (store, time) = Open(options => options.MaxRetainedKeys = 1_000_000, TimeSpan.FromMinutes(10));
        var consumer = store.OpenConsumer(Queue);
        for (var n = 0; n < Keys; n++)
        {
            await store.EnqueueAsync(Job(n, key: $"key-{n}"), CancellationToken.None);
            await store.CompleteAsync(await consumer.FetchAsync(CancellationToken.None), CancellationToken.None);
        }

        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await Poll.UntilAsync(async () => await RetainedKeysAsync(dataSource) == Keys, "every completion was written");
        time.Advance(TimeSpan.FromMinutes(20));
        Assert.True(await ((PostgreSqlJobStore)store).SweepAsync(CancellationToken.None));

        Assert.Equal(0, await RetainedKeysAsync(dataSource));
    }

    private (IJobStore Store, FakeTimeProvider Time) Open(Action<PostgreSqlStoreOptions>? configure = null, TimeSpan? keyRetention = null)
    {
        var time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue, q => q.IdempotencyRetention = keyRetention ?? TimeSpan.FromDays(1))
            .UsePostgreSql(server.ConnectionString, options =>
            {
                options.Schema = _schema;
                options.LeaseDuration = TimeSpan.FromSeconds(30);
                options.SweepInterval = TimeSpan.FromHours(1);
                configure?.Invoke(options);
            });
        services.AddSingleton(new RunRecorder(1));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return (provider.GetRequiredService<IJobStore>(), time);
    }

    private static JobRecord Job(int number, string? key = null) =>
        new(JobId.NewId(), nameof(WorkJob), Queue, new WorkJob(number), Start) { IdempotencyKey = key };

    private async Task<(int State, int Attempt)> StateAndAttemptAsync(NpgsqlDataSource dataSource, JobId id)
    {
        await using var command = dataSource.CreateCommand($"SELECT state, attempt FROM {_schema}.jobs WHERE id = @id");
        command.Parameters.AddWithValue("id", id.Value);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"Job {id} is not in the jobs table.");
        return (reader.GetInt16(0), reader.GetInt32(1));
    }

    private async Task<long> LeaseTokenAsync(NpgsqlDataSource dataSource, JobId id)
    {
        await using var command = dataSource.CreateCommand($"SELECT lease_token FROM {_schema}.jobs WHERE id = @id");
        command.Parameters.AddWithValue("id", id.Value);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> RetainedKeysAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 2 AND key_held");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<int>> RetainedKeyNumbersAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand($"SELECT substr(idempotency_key, 5)::int AS n FROM {_schema}.jobs WHERE state = 2 AND key_held ORDER BY n");
        await using var reader = await command.ExecuteReaderAsync();
        var numbers = new List<int>();
        while (await reader.ReadAsync())
        {
            numbers.Add(reader.GetInt32(0));
        }

        return numbers;
    }
}
