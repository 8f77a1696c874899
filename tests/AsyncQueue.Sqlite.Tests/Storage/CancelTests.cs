using AsyncQueue.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// Issue 17: cancel by id through the store. A waiting job is cancelled at once and never handed out; a leased one is
/// flagged, and the process holding it learns at its heartbeat (at once when it is this process), and a rescue of its
/// expired lease says so too; its settle as cancelled is fenced like any other.
/// </summary>
public sealed class CancelTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 4, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeTimeProvider _otherClock = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Cancel_WaitingJob_IsCancelledNeverHandedOutAndFreesItsKey()
    {
        await using var store = BareStore.Open(_database, _time);
        var doomed = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow(), key: "once"));
        var kept = await store.EnqueueAsync(BareStore.Job(2, _time.GetUtcNow()));

        Assert.Equal(CancelJobResult.Cancelled, await store.Store.CancelAsync(doomed, CancellationToken.None));

        Assert.Equal(kept, (await store.FetchAsync().AsTask().WaitAsync(Guard)).Id);
        var next = store.FetchAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        await store.BarrierAsync();
        Assert.False(next.IsCompleted);
        Assert.Equal(JobState.Cancelled, (await store.Store.GetJobAsync(doomed, CancellationToken.None))!.State);
        Assert.Equal(EnqueueStatus.Accepted, (await store.Store.EnqueueAsync(BareStore.Job(3, _time.GetUtcNow(), key: "once"), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Cancel_JobLeasedByAnotherProcess_IsRequestedAndHolderLearnsAtItsHeartbeat()
    {
        await using var holder = BareStore.Open(_database, _time);
        await using var admin = BareStore.Open(_database, _otherClock);
        var id = await holder.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        var job = await holder.FetchAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(CancelJobResult.CancellationRequested, await admin.Store.CancelAsync(id, CancellationToken.None));
        var info = await admin.Store.GetJobAsync(id, CancellationToken.None);
        Assert.Equal((JobState.Running, true), (info!.State, info.CancellationRequested));
        Assert.False(job.CancellationRequested);

        // The holder's heartbeat (every 10 seconds of its clock) reads the flag and tells the record it handed out.
        _time.Advance(TimeSpan.FromSeconds(10));
        await holder.BarrierAsync();
        await Poll.UntilAsync(() => job.CancellationRequested, "the heartbeat told the record");

        // The dispatcher settles it as cancelled: not run again, not dead-lettered.
        await holder.Store.MarkCancelledAsync(job, CancellationToken.None);
        info = await admin.Store.GetJobAsync(id, CancellationToken.None);
        Assert.Equal((JobState.Cancelled, 1), (info!.State, info.Attempt));
        Assert.Equal(0, await holder.DeadLetters.CountAsync(BareStore.Queue + "-dead-letter"));
        Assert.Equal(CancelJobResult.AlreadyFinished, await admin.Store.CancelAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Cancel_JobLeasedByThisProcess_TellsItsRecordWithoutWaitingForHeartbeat()
    {
        await using var store = BareStore.Open(_database, _time);
        var id = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        var job = await store.FetchAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(CancelJobResult.CancellationRequested, await store.Store.CancelAsync(id, CancellationToken.None));

        await Poll.UntilAsync(() => job.CancellationRequested, "the store told the record it holds");
    }

    [Fact]
    public async Task Cancel_FinishedDeadLetteredOrUnknownJobs_SaysSoAndChangesNothing()
    {
        await using var store = BareStore.Open(_database, _time);
        var succeeded = await store.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        await store.Store.CompleteAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), CancellationToken.None);
        var dead = await store.EnqueueAsync(BareStore.Job(2, _time.GetUtcNow()));
        await store.Store.DeadLetterAsync(await store.FetchAsync().AsTask().WaitAsync(Guard), new DeadLetterTarget("cancel-dead", TimeSpan.FromDays(1), 10), CancellationToken.None);
        var cancelled = await store.EnqueueAsync(BareStore.Job(3, _time.GetUtcNow()));
        await store.Store.CancelAsync(cancelled, CancellationToken.None);

        Assert.Equal(CancelJobResult.AlreadyFinished, await store.Store.CancelAsync(succeeded, CancellationToken.None));
        Assert.Equal(CancelJobResult.AlreadyFinished, await store.Store.CancelAsync(dead, CancellationToken.None));
        Assert.Equal(CancelJobResult.AlreadyFinished, await store.Store.CancelAsync(cancelled, CancellationToken.None));
        Assert.Equal(CancelJobResult.NotFound, await store.Store.CancelAsync(JobId.NewId(), CancellationToken.None));
        Assert.Equal(JobState.Succeeded, (await store.Store.GetJobAsync(succeeded, CancellationToken.None))!.State);
        Assert.Equal(JobState.DeadLettered, (await store.Store.GetJobAsync(dead, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task MarkCancelled_AfterLeaseLostToRescue_IsRefusedAndRescueReportsTheRequest()
    {
        await using var stalled = BareStore.Open(_database, _time);
        await using var live = BareStore.Open(_database, _otherClock);
        var id = await stalled.EnqueueAsync(BareStore.Job(1, _time.GetUtcNow()));
        var late = await stalled.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(CancelJobResult.CancellationRequested, await live.Store.CancelAsync(id, CancellationToken.None));

        // The stalled process never heartbeats (its clock stands still); past the lease, the live one takes the job
        // over, and the record it hands its dispatcher carries the request, so it is settled as cancelled, not retried.
        var expired = live.Store.OpenExpiredLeaseConsumer().FetchAsync(CancellationToken.None).AsTask();
        _otherClock.Advance(TimeSpan.FromSeconds(31));
        var rescued = await expired.WaitAsync(Guard);
        Assert.True(rescued.CancellationRequested);

        await Assert.ThrowsAsync<JobLeaseLostException>(() => stalled.Store.MarkCancelledAsync(late, CancellationToken.None).AsTask());
        Assert.Equal(JobState.Running, (await live.Store.GetJobAsync(id, CancellationToken.None))!.State);

        await live.Store.MarkCancelledAsync(rescued, CancellationToken.None);
        Assert.Equal(JobState.Cancelled, (await live.Store.GetJobAsync(id, CancellationToken.None))!.State);
    }
}
