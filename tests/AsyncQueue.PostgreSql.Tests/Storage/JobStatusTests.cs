using System.Diagnostics.Metrics;
using AsyncQueue.Conformance;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// Issue 17: a job's status by id through each of its states, and how long a finished job's status is kept: its
/// queue's retention (by the sweeper), its capacity (the oldest evicted early, and counted), never dropping a key still held.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class JobStatusTests(PostgreSqlServer server) : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);
    private static readonly DeadLetterTarget Target = new("status-dead", TimeSpan.FromDays(1), 100);

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
    public async Task GetJob_ThroughEachState_ReportsStateTimesAndAttempts()
    {
        var store = Open();
        var time = store.Time;
        var start = time.GetUtcNow();
        Assert.Null(await store.Store.GetJobAsync(JobId.NewId(), CancellationToken.None));

        var scheduled = await store.EnqueueAsync(store.Job(1, JobPriority.High, notBefore: start.AddHours(1)));
        var info = await store.GetAsync(scheduled);
        Assert.Equal((JobState.Scheduled, JobPriority.High, 0), (info.State, info.Priority, info.Attempt));
        Assert.Equal(start.AddHours(1), info.NextRunAt);

        var id = await store.EnqueueAsync(store.Job(2, key: "status-key", maxAttempts: 4));
        info = await store.GetAsync(id);
        Assert.Equal((JobState.Waiting, start, start), (info.State, info.EnqueuedAt, info.NextRunAt!.Value));
        Assert.Equal((4, "status-key"), (info.MaxAttempts!.Value, info.IdempotencyKey));

        time.Advance(TimeSpan.FromSeconds(1));
        var running = await store.FetchAsync().AsTask().WaitAsync(Guard);
        info = await store.GetAsync(id);
        Assert.Equal((JobState.Running, 1, start.AddSeconds(1)), (info.State, info.Attempt, info.StartedAt!.Value));
        Assert.Null(info.NextRunAt);

        running.AddError(new JobError(1, time.GetUtcNow(), "System.TimeoutException", "slow", null));
        await store.Store.RescheduleAsync(running, start.AddMinutes(5), CancellationToken.None);
        info = await store.GetAsync(id);
        Assert.Equal((JobState.Retrying, 1, start.AddMinutes(5)), (info.State, info.Attempt, info.NextRunAt!.Value));
        Assert.Equal("slow", Assert.Single(info.Errors).Message);

        time.Advance(TimeSpan.FromMinutes(5));
        var second = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(id, second.Id);
        second.Result = "written to /out/2.csv";
        time.Advance(TimeSpan.FromSeconds(3));
        await store.Store.CompleteAsync(second, CancellationToken.None);
        info = await store.GetAsync(id);
        Assert.Equal((JobState.Succeeded, 2, "written to /out/2.csv"), (info.State, info.Attempt, info.Result));
        Assert.Equal(time.GetUtcNow(), info.FinishedAt);
        Assert.Single(info.Errors);

        var doomed = await store.EnqueueAsync(store.Job(3, JobPriority.Low));
        var leased = await store.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(doomed, leased.Id);
        await store.Store.DeadLetterAsync(leased, Target, CancellationToken.None);
        info = await store.GetAsync(doomed);
        Assert.Equal((JobState.DeadLettered, Target.Name, JobPriority.Low), (info.State, info.DeadLetterQueue, info.Priority));
        Assert.Equal(time.GetUtcNow(), info.FinishedAt);

        var cancelled = await store.EnqueueAsync(store.Job(4));
        Assert.Equal(CancelJobResult.Cancelled, await store.Store.CancelAsync(cancelled, CancellationToken.None));
        info = await store.GetAsync(cancelled);
        Assert.Equal((JobState.Cancelled, 0), (info.State, info.Attempt));
        Assert.Equal(time.GetUtcNow(), info.FinishedAt);
    }

    [Fact]
    public async Task Sweep_SucceededJobPastFinishedJobRetention_ForgetsItsStatus()
    {
        var store = Open(q => q.FinishedJobRetention = TimeSpan.FromHours(1));
        var id = await store.EnqueueAsync(store.Job(1));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);

        store.Time.Advance(TimeSpan.FromMinutes(59));
        await store.SweepAsync();
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(id)).State);

        store.Time.Advance(TimeSpan.FromMinutes(1));
        await store.SweepAsync();
        Assert.Null(await store.Store.GetJobAsync(id, CancellationToken.None));
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs"));
    }

    [Fact]
    public async Task Sweep_StatusExpiredButKeyRetained_KeepsRowUntilKeyExpiresAndKeyRefusesDuplicates()
    {
        var store = Open(q =>
        {
            q.FinishedJobRetention = TimeSpan.FromMinutes(10);
            q.IdempotencyRetention = TimeSpan.FromMinutes(30);
        });
        var id = await store.EnqueueAsync(store.Job(1, key: "k-1"));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);

        store.Time.Advance(TimeSpan.FromMinutes(20));
        await store.SweepAsync();
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(id)).State);
        Assert.Equal(EnqueueStatus.Duplicate, (await store.Store.EnqueueAsync(store.Job(2, key: "k-1"), CancellationToken.None)).Status);

        store.Time.Advance(TimeSpan.FromMinutes(11));
        await store.SweepAsync();
        Assert.Null(await store.Store.GetJobAsync(id, CancellationToken.None));
        Assert.Equal(EnqueueStatus.Accepted, (await store.Store.EnqueueAsync(store.Job(3, key: "k-1"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Sweep_MoreFinishedJobsThanCapacity_EvictsOldestCountsThemAndKeepsHeldKeys()
    {
        var evicted = new List<(long Count, string? Queue)>();
        var store = Open(q => q.FinishedJobCapacity = 3, services => services.AddMetrics());
        using var listener = ListenForEvictions(store, evicted);

        // Five jobs finish a second apart (the last one cancelled); the oldest holds its idempotency key (retained for a
        // day by default).
        var ids = new List<JobId>();
        for (var n = 0; n < 5; n++)
        {
            ids.Add(await store.EnqueueAsync(store.Job(n, key: n == 0 ? "held" : null)));
            var job = await store.FetchAsync().AsTask().WaitAsync(Guard);
            await (n == 4 ? store.Store.MarkCancelledAsync(job, CancellationToken.None) : store.Store.CompleteAsync(job, CancellationToken.None));
            store.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await store.SweepAsync();

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
        Assert.Equal((1L, StoreProcess.Queue), Assert.Single(evicted));
        Assert.Equal(EnqueueStatus.Duplicate, (await store.Store.EnqueueAsync(store.Job(9, key: "held"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Complete_ManyMoreThanCapacityWhileTheClockStandsStill_SweepsByVolume()
    {
        // The sweep timer never fires here (the clock stands still), so only the volume of kept rows can ask for a sweep:
        // a busy queue's finished rows must stay near its capacity, not pile up until the next tick.
        const int Jobs = 3_000;
        var store = Open(q => q.FinishedJobCapacity = 100);
        var consumer = store.Store.OpenConsumer(StoreProcess.Queue);
        for (var first = 0; first < Jobs; first += 500)
        {
            await store.Store.EnqueueBatchAsync([.. Enumerable.Range(first, 500).Select(n => store.Job(n))], CancellationToken.None);
        }

        for (var n = 0; n < Jobs; n++)
        {
            await store.Store.CompleteAsync(await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard), CancellationToken.None);
        }

        // A sweep is asked for after every 1,024 rows kept (half the capacity, but never fewer than four delete batches),
        // so what is left is the capacity plus at most the rows kept since the last one: well under the 3,000 kept.
        await Poll.UntilAsync(
            async () => await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 1") == 0
                && await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 2") <= 100 + (2 * 1_024),
            "the completions committed and the volume sweeps evicted the oldest statuses");
    }

    [Fact]
    public async Task Complete_QueueKeepingNoStatus_DeletesRowAtOnce()
    {
        var store = Open(q => q.FinishedJobCapacity = 0);
        var id = await store.EnqueueAsync(store.Job(1));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);

        Assert.Null(await store.Store.GetJobAsync(id, CancellationToken.None));
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs"));
    }

    private StoreProcess Open(Action<QueueOptions>? queue = null, Action<IServiceCollection>? services = null)
    {
        var process = StoreProcess.Open(server.ConnectionString, _schema, queue, configureServices: services);
        _processes.Add(process);
        return process;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Counts the evictions of this store's meter only (tests run in parallel, each with its own stores).</summary>
    private static MeterListener ListenForEvictions(StoreProcess store, List<(long Count, string? Queue)> evicted)
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
