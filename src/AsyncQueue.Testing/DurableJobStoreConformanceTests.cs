using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The contract a <see cref="JobStoreCapabilities.Durable"/> store keeps on top of <see cref="JobStoreConformanceTests"/>:
/// fencing of a lost lease, the jobs of a crashed process taken over by another, and jobs kept across a restart; with
/// <see cref="JobStoreCapabilities.ExpiringLeases"/>, leases with an expiry, the rescue of expired leases with whether
/// their start was recorded, and isolated jobs one at a time.
/// </summary>
/// <remarks>
/// <para>
/// A crash is played by two processes on the same storage, each with its own fake clock: the first
/// (<see cref="JobStoreConformanceTests.Store"/>) leases a job, then <see cref="CrashAsync"/> ends its leases. By default
/// its clock stands still, so it never heartbeats, as if frozen or dead, and the second's clock moves past
/// <see cref="LeaseExpiry"/>, so its sweeper finds the lease expired. A store whose lease is a connection (a broker)
/// overrides <see cref="CrashAsync"/> to cut that connection instead.
/// </para>
/// <para>
/// Without <see cref="JobStoreCapabilities.ExpiringLeases"/> the tests of expiry, rescue and isolation check what such a
/// store promises instead, nothing skipped: no expiry is reported and no clock ends a lease; a crashed process's job
/// comes back through the other process's ordinary consumer with the crashed attempt counted, started or not, and its
/// late outcome is fenced out; and a job handed back marked isolated is handed out as any other.
/// </para>
/// </remarks>
public abstract class DurableJobStoreConformanceTests : JobStoreConformanceTests
{
    private readonly List<ServiceProvider> _processes = [];

    /// <summary>
    /// Gets how far a second process's clock must move for every lease taken at the start to have expired and its
    /// sweeper to have looked: more than the store's lease duration plus its sweep interval. Read only by the default
    /// <see cref="CrashAsync"/>.
    /// </summary>
    protected abstract TimeSpan LeaseExpiry { get; }

    /// <summary>Gets a value indicating whether the store's leases expire on its clock (<see cref="JobStoreCapabilities.ExpiringLeases"/>).</summary>
    private protected bool HasExpiringLeases => (Store.Capabilities & JobStoreCapabilities.ExpiringLeases) != 0;

    /// <inheritdoc />
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Assert.True((Store.Capabilities & JobStoreCapabilities.Durable) != 0, "DurableJobStoreConformanceTests is for stores with JobStoreCapabilities.Durable.");
    }

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    /// <summary>
    /// A store with <see cref="JobStoreCapabilities.SharedRateLimits"/> leases at most a window's permits of a rate-limited
    /// queue across two processes, leaves the rest waiting (not failed), and leases them in the next window. A store
    /// without it leaves the limit to each process's dispatcher: it leases the queue's jobs as any others.
    /// </summary>
    [Fact]
    public async Task Fetch_SharedRateLimit_LeasesAtMostPermitsPerWindowAcrossProcesses()
    {
        for (var i = 0; i < 5; i++)
        {
            await Store.EnqueueAsync(new JobRecord(JobId.NewId(), nameof(ConformanceJob), RateLimitedQueue, new ConformanceJob(i), Time.GetUtcNow()), CancellationToken.None);
        }

        var (other, otherTime) = StartProcess();
        var here = Store.OpenConsumer(RateLimitedQueue);
        var there = other.OpenConsumer(RateLimitedQueue);
        var guard = TimeSpan.FromMinutes(1);
        await using var either = new EitherProcess(here, there);
        if ((Store.Capabilities & JobStoreCapabilities.SharedRateLimits) == 0)
        {
            for (var i = 0; i < 5; i++)
            {
                await either.TakeAsync(guard);
            }

            Assert.Equal(0, (await Store.CountAsync(RateLimitedQueue, CancellationToken.None)).Waiting);
            Assert.Equal(0, await either.StopAsync(guard));
            return;
        }

        for (var i = 0; i < 3; i++)
        {
            await either.TakeAsync(guard);
        }

        // The window's three permits are spent: a fourth fetch in either process waits, past several polls.
        for (var poll = 0; poll < 3; poll++)
        {
            Time.Advance(TimeSpan.FromSeconds(5));
            otherTime.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(50);
        }

        Assert.False(either.Taken, "a fourth job was leased in a window of three permits");
        var counts = await Store.CountAsync(RateLimitedQueue, CancellationToken.None);
        Assert.Equal(2, counts.Waiting);

        // The next window: the waiting jobs are leased.
        Time.Advance(TimeSpan.FromMinutes(1));
        otherTime.Advance(TimeSpan.FromMinutes(1));
        await either.TakeAsync(guard);
    }

    /// <summary>
    /// A leased job carries its lease's expiry, after now: the dispatcher checks it before it starts the job. Without
    /// <see cref="JobStoreCapabilities.ExpiringLeases"/> it carries none, and no clock ends the lease: a day later on the
    /// store's clock another consumer gets the next job, not this one, its start can be recorded and its outcome is taken.
    /// </summary>
    [Fact]
    public async Task Fetch_LeasedJob_CarriesLeaseExpiryInTheFuture()
    {
        await Store.EnqueueAsync(NewJob(1), CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);

        var leased = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

        if (!HasExpiringLeases)
        {
            Assert.Null(leased.LeaseExpiresAt);
            Time.Advance(TimeSpan.FromDays(1));
            var next = Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask();
            await Store.EnqueueAsync(NewJob(2), CancellationToken.None);
            Assert.Equal(new ConformanceJob(2), (await next.WaitAsync(TimeSpan.FromMinutes(1))).Job);
            Assert.True(await Store.MarkStartedAsync(leased, CancellationToken.None));
            await Store.CompleteAsync(leased, CancellationToken.None);
            return;
        }

        Assert.NotNull(leased.LeaseExpiresAt);
        Assert.True(leased.LeaseExpiresAt > Time.GetUtcNow(), $"the lease expires at {leased.LeaseExpiresAt:O}, not after now ({Time.GetUtcNow():O})");
    }

    /// <summary>
    /// A lease that expired in a process that stopped heartbeating is taken over by another process's rescue, as the
    /// same attempt with no start recorded; the first process's late outcome is then fenced out. Without
    /// <see cref="JobStoreCapabilities.ExpiringLeases"/>, the crashed process's job comes back to the other process's
    /// consumer with the crashed attempt counted, though it never started.
    /// </summary>
    [Fact]
    public async Task ExpiredLease_OfStalledProcess_IsRescuedElsewhereAndFencesOutTheLateOutcome()
    {
        var job = NewJob(2);
        await Store.EnqueueAsync(job, CancellationToken.None);
        var leased = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        var (other, otherTime) = StartProcess();

        var rescued = await RescueAsync(other, otherTime);

        Assert.Equal(job.Id, rescued.Id);
        if (HasExpiringLeases)
        {
            Assert.Equal(1, rescued.Attempt);
        }
        else
        {
            AssertCrashCounted(rescued, 1);
        }

        Assert.False(rescued.StartRecorded);
        Assert.Equal(new ConformanceJob(2), rescued.Job);
        await Assert.ThrowsAsync<JobLeaseLostException>(() => Store.CompleteAsync(leased, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<JobLeaseLostException>(() => Store.RescheduleAsync(leased, Time.GetUtcNow(), CancellationToken.None).AsTask());
    }

    /// <summary>
    /// A rescued job handed back uncharged and isolated comes back as the same attempt, isolated, and an isolated job's
    /// start can be recorded. Without <see cref="JobStoreCapabilities.ExpiringLeases"/> (whose rescued jobs the dispatcher
    /// does not isolate), a redelivered job handed back with its attempt undone comes back as the same attempt with the
    /// crash's error kept, and its start can be recorded.
    /// </summary>
    [Fact]
    public async Task Reschedule_RescuedJobAsIsolated_ComesBackIsolatedAndItsStartIsRecorded()
    {
        var job = NewJob(3);
        await Store.EnqueueAsync(job, CancellationToken.None);
        await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        var (other, otherTime) = StartProcess();
        var rescued = await RescueAsync(other, otherTime);
        var attempt = rescued.Attempt;

        rescued.Attempt--;
        rescued.Isolated = HasExpiringLeases;
        await other.RescheduleAsync(rescued, otherTime.GetUtcNow(), CancellationToken.None);
        var again = await other.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(job.Id, again.Id);
        Assert.Equal(attempt, again.Attempt);
        if (HasExpiringLeases)
        {
            Assert.Equal(1, again.Attempt);
            Assert.True(again.Isolated);
        }
        else
        {
            AssertCrashCounted(again, 1);
        }

        Assert.True(await other.MarkStartedAsync(again, CancellationToken.None));
    }

    /// <summary>
    /// When an isolated job's process dies after its start was recorded, the rescue says so: the crash is charged to it.
    /// Without <see cref="JobStoreCapabilities.ExpiringLeases"/>, every crash is charged: a job that failed once, started
    /// again and lost with its process comes back as its third attempt, with the failure's error and then the crash's.
    /// </summary>
    [Fact]
    public async Task ExpiredLease_OfIsolatedJobWhoseStartWasRecorded_IsRescuedWithStartRecorded()
    {
        var job = NewJob(4);
        await Store.EnqueueAsync(job, CancellationToken.None);
        if (!HasExpiringLeases)
        {
            await AssertStartedCrashCountedAfterFailureAsync(job);
            return;
        }

        var isolated = await FetchIsolatedAsync(Store.OpenConsumer(Queue));
        Assert.True(isolated.Isolated);
        Assert.True(await Store.MarkStartedAsync(isolated, CancellationToken.None));
        var (other, otherTime) = StartProcess();

        var rescued = await RescueAsync(other, otherTime);

        Assert.Equal(job.Id, rescued.Id);
        Assert.Equal(1, rescued.Attempt);
        Assert.True(rescued.StartRecorded);
        Assert.True(rescued.Isolated);
    }

    /// <summary>
    /// Recording the start of an isolated job whose lease was rescued meanwhile fails: that job must not start; its new
    /// holder's start is recorded. Without <see cref="JobStoreCapabilities.ExpiringLeases"/> the same holds of any job
    /// the crashed process held.
    /// </summary>
    [Fact]
    public async Task MarkStarted_AfterTheLeaseWasRescued_ReturnsFalse()
    {
        await Store.EnqueueAsync(NewJob(5), CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        var held = HasExpiringLeases ? await FetchIsolatedAsync(consumer) : await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        var (other, otherTime) = StartProcess();
        var rescued = await RescueAsync(other, otherTime);

        Assert.False(await Store.MarkStartedAsync(held, CancellationToken.None));
        Assert.Equal(held.Id, rescued.Id);
        Assert.True(await other.MarkStartedAsync(rescued, CancellationToken.None));
    }

    /// <summary>
    /// A store holds one isolated job at a time: while one is out, its other consumers get ordinary jobs, and the next
    /// isolated one only after. A store without <see cref="JobStoreCapabilities.ExpiringLeases"/> isolates nothing: both
    /// jobs handed back marked isolated are out at once.
    /// </summary>
    [Fact]
    public async Task Fetch_WhileAnIsolatedJobIsHeld_HandsOutNoOtherIsolatedJob()
    {
        var consumer = Store.OpenConsumer(Queue);
        var second = Store.OpenConsumer(Queue);
        await Store.EnqueueBatchAsync([NewJob(6), NewJob(7)], CancellationToken.None);
        foreach (var _ in new[] { 6, 7 })
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
            job.Attempt--;
            job.Isolated = true;
            await Store.RescheduleAsync(job, Time.GetUtcNow(), CancellationToken.None);
        }

        var held = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        if (!HasExpiringLeases)
        {
            var alongside = await second.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal([6, 7], new[] { held, alongside }.Select(j => ((ConformanceJob)j.Job).Number).Order());
            Assert.Equal([1, 1], new[] { held.Attempt, alongside.Attempt });
            return;
        }

        Assert.True(held.Isolated);
        var waiting = second.FetchAsync(CancellationToken.None).AsTask();
        await Store.EnqueueAsync(NewJob(8), CancellationToken.None);
        var ordinary = await waiting.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new ConformanceJob(8), ordinary.Job);
        Assert.False(ordinary.Isolated);
        await Store.CompleteAsync(ordinary, CancellationToken.None);

        await Store.CompleteAsync(held, CancellationToken.None);
        var next = await second.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(next.Isolated);
        Assert.NotEqual(held.Id, next.Id);
    }

    /// <summary>Jobs waiting and scheduled for later survive a restart of the process, and run when due (on the store's own clock without <see cref="JobStoreCapabilities.InjectedClock"/>).</summary>
    [Fact]
    public async Task Restart_KeepsWaitingAndScheduledJobs()
    {
        if (!HasInjectedClock)
        {
            await AssertRestartKeepsJobsOnOwnClockAsync();
            return;
        }

        await Store.EnqueueAsync(NewJob(9), CancellationToken.None);
        await Store.EnqueueAsync(NewJob(10, notBefore: Time.GetUtcNow().AddMinutes(5)), CancellationToken.None);
        await RestartAsync();

        var counts = await Store.CountAsync(Queue, CancellationToken.None);
        Assert.Equal(1, counts.Waiting);
        Assert.Equal(1, counts.Scheduled);
        var consumer = Store.OpenConsumer(Queue);
        Assert.Equal(new ConformanceJob(9), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1))).Job);
        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(new ConformanceJob(10), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1))).Job);
    }

    /// <summary>Fetches the next job, hands it back as a suspect (attempt undone, isolated), and fetches it again isolated.</summary>
    private async Task<JobRecord> FetchIsolatedAsync(IJobConsumer consumer)
    {
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        first.Attempt--;
        first.Isolated = true;
        await Store.RescheduleAsync(first, Time.GetUtcNow(), CancellationToken.None);
        return await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// For a store without <see cref="JobStoreCapabilities.ExpiringLeases"/>: a job that failed once (rescheduled now,
    /// as the dispatcher does with no backoff) and whose second attempt's start was recorded, lost with its process,
    /// comes back to another process as its third attempt, with the failure's error and then the crash's.
    /// </summary>
    private async Task AssertStartedCrashCountedAfterFailureAsync(JobRecord job)
    {
        var consumer = Store.OpenConsumer(Queue);
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        first.AddError(new JobError(1, Time.GetUtcNow(), "System.Exception", "failure 1", null));
        await Store.RescheduleAsync(first, Time.GetUtcNow(), CancellationToken.None);
        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(await Store.MarkStartedAsync(second, CancellationToken.None));
        var (other, otherTime) = StartProcess();

        var rescued = await RescueAsync(other, otherTime);

        Assert.Equal(job.Id, rescued.Id);
        Assert.Equal(3, rescued.Attempt);
        Assert.Equal([(1, "System.Exception"), (2, typeof(JobLeaseExpiredException).FullName!)], rescued.Errors.Select(e => (e.Attempt, e.ExceptionType)));
        Assert.Equal("failure 1", rescued.Errors[0].Message);
    }

    /// <summary>
    /// For a store on its own clock: a waiting job and one scheduled <see cref="JobStoreConformanceTests.OwnClockDelay"/>
    /// ahead (on a fake clock that stands still) survive a restart; the waiting one is counted and handed out first, the
    /// scheduled one after, and not before its delay passed on the real clock.
    /// </summary>
    private async Task AssertRestartKeepsJobsOnOwnClockAsync()
    {
        await Store.EnqueueAsync(NewJob(9), CancellationToken.None);
        var started = TimeProvider.System.GetTimestamp();
        await Store.EnqueueAsync(NewJob(10, notBefore: Time.GetUtcNow() + OwnClockDelay), CancellationToken.None);
        await RestartAsync();

        Assert.True((await Store.CountAsync(Queue, CancellationToken.None)).Waiting >= 1, "the waiting job was not counted after the restart");
        var consumer = Store.OpenConsumer(Queue);
        Assert.Equal(new ConformanceJob(9), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard)).Job);
        Assert.Equal(new ConformanceJob(10), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard)).Job);
        var held = TimeProvider.System.GetElapsedTime(started);
        Assert.True(held >= OwnClockDelay - OwnClockGranularity, $"The scheduled job was handed out {held.TotalMilliseconds:F0} ms after it was scheduled {OwnClockDelay.TotalMilliseconds:F0} ms ahead.");
    }

    /// <summary>Starts another process on the same storage, with a clock of its own (or <paramref name="time"/>).</summary>
    /// <param name="time">The clock, or <see langword="null"/> for a new fake clock at the suite's start.</param>
    /// <returns>The process's store and clock.</returns>
    protected (IJobStore Store, FakeTimeProvider Time) StartProcess(FakeTimeProvider? time = null)
    {
        time ??= new FakeTimeProvider(Time.GetUtcNow());
        var services = BuildServices(time);
        _processes.Add(services);
        return (services.GetRequiredService<IJobStore>(), time);
    }

    /// <summary>
    /// Crashes the process of <see cref="JobStoreConformanceTests.Store"/> (<see cref="CrashAsync"/>) and takes the first
    /// job another process then gets back: from its expired-lease consumer, or, for a store without
    /// <see cref="JobStoreCapabilities.ExpiringLeases"/> (whose crashed jobs come back as ordinary jobs), from its
    /// consumer of <see cref="JobStoreConformanceTests.Queue"/>.
    /// </summary>
    /// <param name="store">The rescuing process's store.</param>
    /// <param name="time">That process's clock.</param>
    /// <returns>The rescued job, under a lease of <paramref name="store"/>.</returns>
    protected async Task<JobRecord> RescueAsync(IJobStore store, FakeTimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var rescuer = HasExpiringLeases ? store.OpenExpiredLeaseConsumer() : store.OpenConsumer(Queue);
        var rescue = rescuer.FetchAsync(CancellationToken.None).AsTask();
        await CrashAsync(time);
        return await rescue.WaitAsync(TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// Ends every lease the process of <see cref="JobStoreConformanceTests.Store"/> holds, as its crash or stall would.
    /// By default that process's clock stands still (so it never heartbeats, as if frozen or dead) and
    /// <paramref name="survivorTime"/> moves <see cref="LeaseExpiry"/> ahead, so the surviving process's sweeper finds
    /// the leases expired. A store whose lease is held by a connection (a broker's delivery) overrides this to cut that
    /// process's connection without a goodbye, as its death would.
    /// </summary>
    /// <param name="survivorTime">The clock of the process that takes the jobs over.</param>
    /// <returns>A task that completes when the crash has been played.</returns>
    protected virtual Task CrashAsync(FakeTimeProvider survivorTime)
    {
        ArgumentNullException.ThrowIfNull(survivorTime);
        survivorTime.Advance(LeaseExpiry);
        return Task.CompletedTask;
    }

    /// <summary>The crashed attempt <paramref name="crashedAttempt"/> was counted: the job is the next attempt, with that crash's error last.</summary>
    private static void AssertCrashCounted(JobRecord job, int crashedAttempt)
    {
        Assert.Equal(crashedAttempt + 1, job.Attempt);
        var crash = job.Errors[^1];
        Assert.Equal((crashedAttempt, typeof(JobLeaseExpiredException).FullName), (crash.Attempt, crash.ExceptionType));
    }

    /// <summary>
    /// One fetch waiting in each of two processes, each job taken by whichever gets it: which one is not fixed, since a
    /// store may lease jobs ahead into one process's buffer, or a broker's consumer take them ahead.
    /// </summary>
    private sealed class EitherProcess : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly IJobConsumer[] _consumers;
        private readonly Task<JobRecord>[] _fetches;

        public EitherProcess(IJobConsumer here, IJobConsumer there)
        {
            _consumers = [here, there];
            _fetches = [.. _consumers.Select(c => c.FetchAsync(_stop.Token).AsTask())];
        }

        /// <summary>Gets a value indicating whether either waiting fetch has ended (with a job, most likely).</summary>
        public bool Taken => _fetches.Any(f => f.IsCompleted);

        /// <summary>Takes the next job either process gets, and waits for another in that process.</summary>
        public async Task<JobRecord> TakeAsync(TimeSpan guard)
        {
            var done = await Task.WhenAny(_fetches).WaitAsync(guard);
            var job = await done;
            var i = Array.IndexOf(_fetches, done);
            _fetches[i] = _consumers[i].FetchAsync(_stop.Token).AsTask();
            return job;
        }

        /// <summary>Cancels the waiting fetches and counts those that got a job rather than ending cancelled.</summary>
        public async Task<int> StopAsync(TimeSpan guard)
        {
            await _stop.CancelAsync();
            var jobs = 0;
            foreach (var fetch in _fetches)
            {
                try
                {
                    await fetch.WaitAsync(guard);
                    jobs++;
                }
                catch (OperationCanceledException)
                {
                }
            }

            return jobs;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await StopAsync(TimeSpan.FromMinutes(1));
            }

            _stop.Dispose();
        }
    }
}
