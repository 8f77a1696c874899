using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The contract a <see cref="JobStoreCapabilities.Durable"/> store keeps on top of <see cref="JobStoreConformanceTests"/>:
/// leases with an expiry, fencing of a lost lease, the rescue of expired leases with whether their start was recorded,
/// isolated jobs one at a time, and jobs kept across a restart.
/// </summary>
/// <remarks>
/// A crash is played by two processes on the same storage, each with its own fake clock: the first (<see cref="JobStoreConformanceTests.Store"/>)
/// leases a job and its clock stands still, so it never heartbeats, as if frozen or dead; the second's clock moves past
/// <see cref="LeaseExpiry"/>, so its sweeper finds the lease expired.
/// </remarks>
public abstract class DurableJobStoreConformanceTests : JobStoreConformanceTests
{
    private readonly List<ServiceProvider> _processes = [];

    /// <summary>
    /// Gets how far a second process's clock must move for every lease taken at the start to have expired and its
    /// sweeper to have looked: more than the store's lease duration plus its sweep interval.
    /// </summary>
    protected abstract TimeSpan LeaseExpiry { get; }

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
    /// queue across two processes, leaves the rest waiting (not failed), and leases them in the next window.
    /// </summary>
    [Fact]
    public async Task Fetch_SharedRateLimit_LeasesAtMostPermitsPerWindowAcrossProcesses()
    {
        if ((Store.Capabilities & JobStoreCapabilities.SharedRateLimits) == 0)
        {
            return;
        }

        for (var i = 0; i < 5; i++)
        {
            await Store.EnqueueAsync(new JobRecord(JobId.NewId(), nameof(ConformanceJob), RateLimitedQueue, new ConformanceJob(i), Time.GetUtcNow()), CancellationToken.None);
        }

        var (other, otherTime) = StartProcess();
        var here = Store.OpenConsumer(RateLimitedQueue);
        var there = other.OpenConsumer(RateLimitedQueue);
        var guard = TimeSpan.FromMinutes(1);
        await here.FetchAsync(CancellationToken.None).AsTask().WaitAsync(guard);
        await there.FetchAsync(CancellationToken.None).AsTask().WaitAsync(guard);
        await here.FetchAsync(CancellationToken.None).AsTask().WaitAsync(guard);

        // The window's three permits are spent: a fourth fetch in either process waits, past several polls.
        var fourth = there.FetchAsync(CancellationToken.None).AsTask();
        for (var poll = 0; poll < 3; poll++)
        {
            Time.Advance(TimeSpan.FromSeconds(5));
            otherTime.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(50);
        }

        Assert.False(fourth.IsCompleted, "a fourth job was leased in a window of three permits");
        var counts = await Store.CountAsync(RateLimitedQueue, CancellationToken.None);
        Assert.Equal(2, counts.Waiting);

        // The next window: the waiting jobs are leased.
        Time.Advance(TimeSpan.FromMinutes(1));
        otherTime.Advance(TimeSpan.FromMinutes(1));
        await fourth.WaitAsync(guard);
    }

    /// <summary>A leased job carries its lease's expiry, after now: the dispatcher checks it before it starts the job.</summary>
    [Fact]
    public async Task Fetch_LeasedJob_CarriesLeaseExpiryInTheFuture()
    {
        await Store.EnqueueAsync(NewJob(1), CancellationToken.None);

        var leased = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.NotNull(leased.LeaseExpiresAt);
        Assert.True(leased.LeaseExpiresAt > Time.GetUtcNow(), $"the lease expires at {leased.LeaseExpiresAt:O}, not after now ({Time.GetUtcNow():O})");
    }

    /// <summary>
    /// A lease that expired in a process that stopped heartbeating is taken over by another process's rescue, as the
    /// same attempt with no start recorded; the first process's late outcome is then fenced out.
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
        Assert.Equal(1, rescued.Attempt);
        Assert.False(rescued.StartRecorded);
        Assert.Equal(new ConformanceJob(2), rescued.Job);
        await Assert.ThrowsAsync<JobLeaseLostException>(() => Store.CompleteAsync(leased, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<JobLeaseLostException>(() => Store.RescheduleAsync(leased, Time.GetUtcNow(), CancellationToken.None).AsTask());
    }

    /// <summary>A rescued job handed back uncharged and isolated comes back as the same attempt, isolated, and an isolated job's start can be recorded.</summary>
    [Fact]
    public async Task Reschedule_RescuedJobAsIsolated_ComesBackIsolatedAndItsStartIsRecorded()
    {
        var job = NewJob(3);
        await Store.EnqueueAsync(job, CancellationToken.None);
        await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        var (other, otherTime) = StartProcess();
        var rescued = await RescueAsync(other, otherTime);

        rescued.Attempt--;
        rescued.Isolated = true;
        await other.RescheduleAsync(rescued, otherTime.GetUtcNow(), CancellationToken.None);
        var again = await other.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(job.Id, again.Id);
        Assert.Equal(1, again.Attempt);
        Assert.True(again.Isolated);
        Assert.True(await other.MarkStartedAsync(again, CancellationToken.None));
    }

    /// <summary>When an isolated job's process dies after its start was recorded, the rescue says so: the crash is charged to it.</summary>
    [Fact]
    public async Task ExpiredLease_OfIsolatedJobWhoseStartWasRecorded_IsRescuedWithStartRecorded()
    {
        var job = NewJob(4);
        await Store.EnqueueAsync(job, CancellationToken.None);
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

    /// <summary>Recording the start of an isolated job whose lease was rescued meanwhile fails: that job must not start.</summary>
    [Fact]
    public async Task MarkStarted_AfterTheLeaseWasRescued_ReturnsFalse()
    {
        await Store.EnqueueAsync(NewJob(5), CancellationToken.None);
        var isolated = await FetchIsolatedAsync(Store.OpenConsumer(Queue));
        var (other, otherTime) = StartProcess();
        await RescueAsync(other, otherTime);

        Assert.False(await Store.MarkStartedAsync(isolated, CancellationToken.None));
    }

    /// <summary>A store holds one isolated job at a time: while one is out, its other consumers get ordinary jobs, and the next isolated one only after.</summary>
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

    /// <summary>Jobs waiting and scheduled for later survive a restart of the process, and run when due.</summary>
    [Fact]
    public async Task Restart_KeepsWaitingAndScheduledJobs()
    {
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

    /// <summary>Moves <paramref name="time"/> past every lease taken so far and takes the first job the process's rescue finds.</summary>
    /// <param name="store">The rescuing process's store.</param>
    /// <param name="time">That process's clock.</param>
    /// <returns>The rescued job, under a lease of <paramref name="store"/>.</returns>
    protected async Task<JobRecord> RescueAsync(IJobStore store, FakeTimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var expired = store.OpenExpiredLeaseConsumer();
        var rescue = expired.FetchAsync(CancellationToken.None).AsTask();
        time.Advance(LeaseExpiry);
        return await rescue.WaitAsync(TimeSpan.FromMinutes(1));
    }
}
