using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// Issue 17: a paused queue accepts jobs and hands none out, in every process on the schema and across a restart, until
/// it is resumed (a resume anywhere wakes every process at once); what a process leased ahead goes back without
/// spending an attempt, whichever process paused the queue.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PauseTests(PostgreSqlServer server) : IAsyncLifetime
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
    public async Task Fetch_PausedQueue_HandsOutNothingUntilAnotherProcessResumesIt()
    {
        var worker = Open();
        var admin = Open();
        await admin.Store.SetPausedAsync(StoreProcess.Queue, paused: true, CancellationToken.None);
        var id = await admin.EnqueueAsync(admin.Job(1));
        var fetch = worker.FetchAsync().AsTask();

        // The worker's fetch loop found the queue paused: its leases stay at zero through several polls.
        for (var poll = 0; poll < 3; poll++)
        {
            worker.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50);
        }

        Assert.False(fetch.IsCompleted);
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 1"));
        var counts = await worker.Store.CountAsync(StoreProcess.Queue, CancellationToken.None);
        Assert.Equal((true, 1L), (counts.Paused, counts.Waiting));

        // The resume notifies: the worker's loop wakes without its clock moving.
        await admin.Store.SetPausedAsync(StoreProcess.Queue, paused: false, CancellationToken.None);
        Assert.Equal(id, (await fetch.WaitAsync(Guard)).Id);
        Assert.False((await worker.Store.CountAsync(StoreProcess.Queue, CancellationToken.None)).Paused);
    }

    [Fact]
    public async Task Pause_ThenNewStoreOnSameSchema_IsStillPausedUntilResumedThere()
    {
        await using (var before = StoreProcess.Open(server.ConnectionString, _schema))
        {
            await before.Store.SetPausedAsync(StoreProcess.Queue, paused: true, CancellationToken.None);
            await before.EnqueueAsync(before.Job(1));
        }

        var after = Open();
        Assert.True((await after.Store.CountAsync(StoreProcess.Queue, CancellationToken.None)).Paused);
        var fetch = after.FetchAsync().AsTask();
        after.Time.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(100);
        Assert.False(fetch.IsCompleted);

        await after.Store.SetPausedAsync(StoreProcess.Queue, paused: false, CancellationToken.None);
        Assert.Equal(new WorkJob(1), (await fetch.WaitAsync(Guard)).Job);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Pause_JobsLeasedAhead_AreHandedBackWithoutSpendingAnAttempt(bool pausedByThisProcess)
    {
        // Completions that commit before CompleteAsync returns, so that a leased row is one leased ahead or running.
        var worker = Open(options =>
        {
            options.LeaseAhead = 5;
            options.AsynchronousCompletions = false;
        });
        var admin = Open();
        for (var n = 0; n < 10; n++)
        {
            await worker.EnqueueAsync(worker.Job(n));
        }

        // The fetch loop leases ahead twice what the workers settled since its last lease (up to LeaseAhead): two jobs
        // run and complete, then one more runs, and some are leased ahead meanwhile; every one of them goes back.
        for (var n = 0; n < 2; n++)
        {
            await worker.Store.CompleteAsync(await worker.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);
        }

        var running = await worker.FetchAsync().AsTask().WaitAsync(Guard);
        await Poll.UntilAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 1") >= 2, "jobs were leased ahead");

        if (pausedByThisProcess)
        {
            await worker.Store.SetPausedAsync(StoreProcess.Queue, paused: true, CancellationToken.None);
        }
        else
        {
            // Another process pauses; this one sees it at its next fetch, when the running job's completion asks for one.
            await admin.Store.SetPausedAsync(StoreProcess.Queue, paused: true, CancellationToken.None);
            await worker.Store.CompleteAsync(running, CancellationToken.None);
        }

        await Poll.UntilAsync(async () => await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 0 AND attempt = 0") == 7, "the leased-ahead jobs were handed back");
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 1 AND seq <> {((PostgreSql.Storage.PostgreSqlLease)running.StoreData!).Seq}"));

        var fetch = worker.FetchAsync().AsTask();
        await Task.Delay(100);
        Assert.False(fetch.IsCompleted);
        await admin.Store.SetPausedAsync(StoreProcess.Queue, paused: false, CancellationToken.None);
        Assert.Equal(1, (await fetch.WaitAsync(Guard)).Attempt);
    }

    private StoreProcess Open(Action<PostgreSqlStoreOptions>? options = null)
    {
        var process = StoreProcess.Open(server.ConnectionString, _schema, options: options);
        _processes.Add(process);
        return process;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
