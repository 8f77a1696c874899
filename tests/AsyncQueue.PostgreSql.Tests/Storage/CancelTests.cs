using AsyncQueue.Storage;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// Issue 17: cancel by id through the store. A waiting job is cancelled at once and never handed out; a leased one is
/// flagged, and the process holding it learns at once through a notification, or at its heartbeat when notifications
/// are off; a rescue of its expired lease says so too; its settle as cancelled is fenced like any other.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class CancelTests(PostgreSqlServer server) : IAsyncLifetime
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
    public async Task Cancel_WaitingJob_IsCancelledNeverHandedOutAndFreesItsKey()
    {
        var store = Open();
        var doomed = await store.EnqueueAsync(store.Job(1, key: "once"));
        var kept = await store.EnqueueAsync(store.Job(2));

        Assert.Equal(CancelJobResult.Cancelled, await store.Store.CancelAsync(doomed, CancellationToken.None));

        Assert.Equal(kept, (await store.FetchAsync().AsTask().WaitAsync(Guard)).Id);
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 0"));
        Assert.Equal(JobState.Cancelled, (await store.GetAsync(doomed)).State);
        Assert.Equal(EnqueueStatus.Accepted, (await store.Store.EnqueueAsync(store.Job(3, key: "once"), CancellationToken.None)).Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Cancel_JobLeasedByAnotherProcess_IsRequestedAndHolderLearnsIt(bool notifications)
    {
        var holder = Open(notifications);
        var admin = Open(notifications);

        // The holder waits, and the job comes from the other process: with notifications, the holder's fetch is woken
        // only by its LISTEN connection (its clock, and so its poll, stands still), which is then surely listening.
        var fetch = holder.FetchAsync().AsTask();
        var id = await admin.EnqueueAsync(admin.Job(1));
        if (!notifications)
        {
            holder.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var job = await fetch.WaitAsync(Guard);

        Assert.Equal(CancelJobResult.CancellationRequested, await admin.Store.CancelAsync(id, CancellationToken.None));
        var info = await admin.GetAsync(id);
        Assert.Equal((JobState.Running, true), (info.State, info.CancellationRequested));

        if (!notifications)
        {
            // Polling only: the holder's heartbeat (every 10 seconds of its clock) reads the flag.
            Assert.False(job.CancellationRequested);
            holder.Time.Advance(TimeSpan.FromSeconds(10));
        }

        await Poll.UntilAsync(() => job.CancellationRequested, "the holder told the record it handed out");

        // The dispatcher settles it as cancelled: not run again, not dead-lettered.
        await holder.Store.MarkCancelledAsync(job, CancellationToken.None);
        info = await admin.GetAsync(id);
        Assert.Equal((JobState.Cancelled, 1), (info.State, info.Attempt));
        Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.dead_letters"));
        Assert.Equal(CancelJobResult.AlreadyFinished, await admin.Store.CancelAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Cancel_FinishedDeadLetteredOrUnknownJobs_SaysSoAndChangesNothing()
    {
        var store = Open();
        var succeeded = await store.EnqueueAsync(store.Job(1));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);
        var dead = await store.EnqueueAsync(store.Job(2));
        await store.Store.DeadLetterAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), new DeadLetterTarget("cancel-dead", TimeSpan.FromDays(1), 10), CancellationToken.None);
        var cancelled = await store.EnqueueAsync(store.Job(3));
        await store.Store.CancelAsync(cancelled, CancellationToken.None);

        Assert.Equal(CancelJobResult.AlreadyFinished, await store.Store.CancelAsync(succeeded, CancellationToken.None));
        Assert.Equal(CancelJobResult.AlreadyFinished, await store.Store.CancelAsync(dead, CancellationToken.None));
        Assert.Equal(CancelJobResult.AlreadyFinished, await store.Store.CancelAsync(cancelled, CancellationToken.None));
        Assert.Equal(CancelJobResult.NotFound, await store.Store.CancelAsync(JobId.NewId(), CancellationToken.None));
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(succeeded)).State);
        Assert.Equal(JobState.DeadLettered, (await store.GetAsync(dead)).State);
    }

    [Fact]
    public async Task MarkCancelled_AfterLeaseLostToRescue_IsRefusedAndRescueReportsTheRequest()
    {
        var stalled = Open();
        var live = Open();
        var id = await stalled.EnqueueAsync(stalled.Job(1));
        var late = await stalled.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(CancelJobResult.CancellationRequested, await live.Store.CancelAsync(id, CancellationToken.None));

        // The stalled process never heartbeats (its clock stands still); past the lease, the live one takes the job over,
        // and the record it hands its dispatcher carries the request, so it is settled as cancelled, not retried.
        var expired = live.Store.OpenExpiredLeaseConsumer().FetchAsync(CancellationToken.None).AsTask();
        live.Time.Advance(TimeSpan.FromSeconds(31));
        await live.SweepAsync();
        var rescued = await expired.WaitAsync(Guard);
        Assert.True(rescued.CancellationRequested);

        await Assert.ThrowsAsync<JobLeaseLostException>(() => stalled.Store.MarkCancelledAsync(late, CancellationToken.None).AsTask());
        Assert.Equal(JobState.Running, (await live.GetAsync(id)).State);

        await live.Store.MarkCancelledAsync(rescued, CancellationToken.None);
        Assert.Equal(JobState.Cancelled, (await live.GetAsync(id)).State);
    }

    private StoreProcess Open(bool notifications = true)
    {
        var process = StoreProcess.Open(server.ConnectionString, _schema, options: options => options.UseListenNotify = notifications);
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
