using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// Two processes on one file, each its own store and clock. The stalled one's clock stands still, so its heartbeat
/// never runs (a process frozen by a pause or a lost VM); on the live one the lease runs out and the job is rescued.
/// </summary>
public sealed class FencingTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);
    private static readonly DeadLetterTarget Target = new("fencing-dead", TimeSpan.FromDays(1), 100);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _stalledClock = new(Start);
    private readonly FakeTimeProvider _liveClock = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Settle_AfterLeaseExpiredAndJobRescued_IsRefusedAndNewAttemptOwnsJob()
    {
        await using var stalled = Open(_stalledClock);
        await using var live = Open(_liveClock);
        await stalled.Jobs.EnqueueAsync(new SqliteTestJob(1));
        var late = await stalled.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(1, late.Attempt);

        // Past the 30-second lease on the live clock: its sweeper takes the job over, and (as its dispatcher decides
        // for an attempt whose start was not recorded) it is handed back uncharged, to run isolated.
        var rescued = await RescueAsync(live);
        Assert.Equal(late.Id, rescued.Id);
        Assert.Equal(1, rescued.Attempt);
        Assert.False(rescued.StartRecorded);
        rescued.Attempt--;
        rescued.Isolated = true;
        await live.Store.RescheduleAsync(rescued, _liveClock.GetUtcNow(), CancellationToken.None);
        var current = await live.FetchAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(late.Id, current.Id);
        Assert.Equal(1, current.Attempt);
        Assert.True(current.Isolated);
        Assert.Empty(current.Errors);

        // The stalled attempt wakes up and reports: every outcome is refused and nothing is stored.
        await Assert.ThrowsAsync<JobLeaseLostException>(() => stalled.Store.CompleteAsync(late, CancellationToken.None).AsTask());
        late.AddError(new JobError(1, _stalledClock.GetUtcNow(), "System.Exception", "late failure", null));
        await Assert.ThrowsAsync<JobLeaseLostException>(() => stalled.Store.RescheduleAsync(late, _stalledClock.GetUtcNow(), CancellationToken.None).AsTask());
        var lost = await Assert.ThrowsAsync<JobLeaseLostException>(() => stalled.Store.DeadLetterAsync(late, Target, CancellationToken.None).AsTask());
        Assert.Equal(late.Id, lost.JobId);
        Assert.Equal(1, lost.Attempt);

        var row = Assert.Single(_database.Rows("SELECT state, attempt FROM asyncqueue_jobs"));
        Assert.Equal([1L, 1L], row);
        Assert.Equal(0, await stalled.DeadLetters.CountAsync(Target.Name));

        // The attempt that holds the lease settles normally: the row is kept as succeeded, for its status.
        await live.Store.CompleteAsync(current, CancellationToken.None);
        Assert.Equal([2L, 1L], _database.Rows("SELECT state, attempt FROM asyncqueue_jobs").Single());
    }

    [Fact]
    public async Task Heartbeat_AfterLeaseLost_DoesNotExtendNewAttemptsLease()
    {
        await using var stalled = Open(_stalledClock);
        await using var live = Open(_liveClock);
        await stalled.Jobs.EnqueueAsync(new SqliteTestJob(2));
        await stalled.FetchAsync().AsTask().WaitAsync(Guard);
        await RescueAsync(live);
        var leaseOfCurrent = _database.Rows("SELECT lease_token, lease_expires FROM asyncqueue_jobs").Single();

        // The stalled process's heartbeat finally runs; a request queued after it proves it ran.
        _stalledClock.Advance(TimeSpan.FromSeconds(10));
        await stalled.DeadLetters.CountAsync(Target.Name);

        Assert.Equal(leaseOfCurrent, _database.Rows("SELECT lease_token, lease_expires FROM asyncqueue_jobs").Single());
    }

    [Fact]
    public async Task Sweep_OwnLeaseExpiredWhileProcessAlive_ExtendsLeaseInsteadOfRescuing()
    {
        await using var store = Open(_liveClock);
        var expired = store.Store.OpenExpiredLeaseConsumer().FetchAsync(CancellationToken.None).AsTask();
        await store.Jobs.EnqueueAsync(new SqliteTestJob(3));
        var job = await store.FetchAsync().AsTask().WaitAsync(Guard);
        var token = _database.Scalar("SELECT lease_token FROM asyncqueue_jobs");

        // Far past the lease, in one jump: the sweeper may run before the heartbeat, and must still keep the job.
        _liveClock.Advance(TimeSpan.FromMinutes(5));
        await store.DeadLetters.CountAsync(Target.Name);

        Assert.Equal([1L, 1L, token], _database.Rows("SELECT state, attempt, lease_token FROM asyncqueue_jobs").Single());
        Assert.False(expired.IsCompleted);
        await store.Store.CompleteAsync(job, CancellationToken.None);
        Assert.Equal([2L, 1L, null], _database.Rows("SELECT state, attempt, lease_token FROM asyncqueue_jobs").Single());
    }

    /// <summary>Moves the live clock past the 30-second lease and takes the job its sweeper took over, as the dispatcher's rescue does.</summary>
    private async Task<JobRecord> RescueAsync(BareStore live)
    {
        var expired = live.Store.OpenExpiredLeaseConsumer().FetchAsync(CancellationToken.None).AsTask();
        _liveClock.Advance(TimeSpan.FromSeconds(31));
        return await expired.WaitAsync(Guard);
    }

    // A stalled process is played with a clock that stands still, so its store would think its lease fresh and not
    // wait for its completions (a process that really stalls sees its clock jump, and waits): every settle here waits
    // for its commit, so a refused one is reported and the file can be read right after.
    private BareStore Open(FakeTimeProvider clock) =>
        BareStore.Open(_database, clock, q => q.Retry = RetryPolicy.Fixed(3, TimeSpan.Zero), options => options.AsynchronousCompletions = false);
}
