using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The contract every <see cref="IJobStore"/> keeps, as xunit tests. A store's test project subclasses this class and
/// overrides <see cref="ConfigureStore"/>; the in-memory store passes it as it is. A durable store subclasses
/// <see cref="DurableJobStoreConformanceTests"/>, which adds the tests of leases, fencing, rescue and restart.
/// </summary>
/// <remarks>
/// What a store lacks it declares in <see cref="IJobStore.Capabilities"/>, and the tests of it check the declared
/// behaviour instead: without <see cref="JobStoreCapabilities.IdempotencyKeys"/>, that a job with a key is refused and
/// nothing is enqueued; without <see cref="JobStoreCapabilities.InjectedClock"/>, that delays and retentions are kept
/// on the store's own clock (JobStoreConformanceTests.Capabilities.cs). No test is skipped.
/// </remarks>
public abstract partial class JobStoreConformanceTests : IAsyncLifetime
{
    /// <summary>The queue every test uses.</summary>
    protected const string Queue = "conformance";

    /// <summary>How long a test waits for a job before calling it a hang: it turns a hang into a failure, and times nothing.</summary>
    private protected static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private ServiceProvider? _services;

    /// <summary>Gets the fake clock the store runs on.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Gets the store under test.</summary>
    protected IJobStore Store { get; private set; } = null!;

    /// <inheritdoc />
    public virtual Task InitializeAsync()
    {
        _services = BuildServices(Time);
        Store = _services.GetRequiredService<IJobStore>();
        return Task.CompletedTask;
    }

    /// <summary>Stops the process of <see cref="Store"/> (disposing its services, as a host does) and starts it again on the same storage and clock.</summary>
    /// <returns>A task that completes when <see cref="Store"/> is the restarted store.</returns>
    protected async Task RestartAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        _services = BuildServices(Time);
        Store = _services.GetRequiredService<IJobStore>();
    }

    /// <summary>
    /// Builds the services of one process using the store under test: the job queue with the suite's job kind, the store
    /// from <see cref="ConfigureStore"/>, and <paramref name="time"/> as its clock. Called once per test for
    /// <see cref="Store"/>, and again for each further process a test needs (on the same storage).
    /// </summary>
    /// <param name="time">The clock of that process.</param>
    /// <returns>The services; the caller disposes them.</returns>
    protected ServiceProvider BuildServices(TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        var builder = services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>(Queue, q => q.MaxConcurrency = 4)
            .ConfigureQueue(RateLimitedQueue, q =>
            {
                q.MaxConcurrency = 4;
                q.RateLimit = RateLimit;
            });
        ConfigureStore(builder);
        return services.BuildServiceProvider();
    }

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    /// <summary>
    /// Replaces the default store with the one under test, for example <c>builder.UseSqlite(...)</c>. Each call within
    /// one test must configure the same storage (the same database), since a test may build several processes.
    /// </summary>
    /// <param name="builder">The job queue builder.</param>
    protected abstract void ConfigureStore(IJobQueueBuilder builder);

    /// <summary>The queue with <see cref="RateLimit"/>, for the tests of <see cref="JobStoreCapabilities.SharedRateLimits"/>.</summary>
    private protected const string RateLimitedQueue = "conformance-rate-limited";

    /// <summary>Gets the rate limit of <see cref="RateLimitedQueue"/>: 3 jobs per minute.</summary>
    private protected static RateLimiting.JobRateLimit RateLimit { get; } = RateLimiting.JobRateLimit.PerMinute(3);

    /// <summary>Gets the dead-letter queue the suite uses.</summary>
    protected static DeadLetterTarget DeadLetters { get; } = new("conformance-dead", TimeSpan.FromDays(1), 3);

    /// <summary>Gets the store's dead-letter queue.</summary>
    protected IDeadLetterQueue DeadLetterQueue => Store.DeadLetters;

    /// <summary>A record for a new job of the test kind.</summary>
    /// <param name="number">The job's number.</param>
    /// <param name="idempotencyKey">The job's idempotency key, if any.</param>
    /// <param name="notBefore">The job's earliest start, if any.</param>
    /// <returns>The record.</returns>
    protected JobRecord NewJob(int number, string? idempotencyKey = null, DateTimeOffset? notBefore = null) =>
        new(JobId.NewId(), nameof(ConformanceJob), Queue, new ConformanceJob(number), Time.GetUtcNow()) { IdempotencyKey = idempotencyKey, NotBefore = notBefore };

    /// <summary>An enqueued job is fetched once, as the first attempt, with its id, kind and value.</summary>
    [Fact]
    public async Task Fetch_AfterEnqueue_ReturnsJobAsFirstAttempt()
    {
        var job = NewJob(7);
        await Store.EnqueueAsync(job, CancellationToken.None);

        var fetched = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        Assert.Equal(job.Id, fetched.Id);
        Assert.Equal(nameof(ConformanceJob), fetched.Kind);
        Assert.Equal(new ConformanceJob(7), fetched.Job);
        Assert.Equal(1, fetched.Attempt);
        Assert.Equal(0, (await Store.CountAsync(Queue, CancellationToken.None)).Waiting);
    }

    /// <summary>One consumer sees jobs in enqueue order, single and batched.</summary>
    [Fact]
    public async Task Fetch_SingleConsumer_ReturnsJobsInEnqueueOrder()
    {
        await Store.EnqueueAsync(NewJob(0), CancellationToken.None);
        await Store.EnqueueBatchAsync([.. Enumerable.Range(1, 99).Select(i => NewJob(i))], CancellationToken.None);
        Assert.Equal(100, (await Store.CountAsync(Queue, CancellationToken.None)).Waiting);

        // Each job is settled before the next fetch, as a worker does: a store may hand a process no more unsettled jobs
        // of a queue than its MaxConcurrency (a broker's prefetch), since the dispatcher never asks for more.
        var consumer = Store.OpenConsumer(Queue);
        for (var i = 0; i < 100; i++)
        {
            var fetched = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            Assert.Equal(new ConformanceJob(i), fetched.Job);
            await Store.CompleteAsync(fetched, CancellationToken.None);
        }
    }

    /// <summary>A consumer waiting on an empty queue is woken by the next enqueue.</summary>
    [Fact]
    public async Task Fetch_OnEmptyQueue_WaitsForNextEnqueue()
    {
        var consumer = Store.OpenConsumer(Queue);
        var fetch = consumer.FetchAsync(CancellationToken.None).AsTask();
        Assert.False(fetch.IsCompleted);

        await Store.EnqueueAsync(NewJob(1), CancellationToken.None);

        var fetched = await fetch.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new ConformanceJob(1), fetched.Job);
    }

    /// <summary>A waiting fetch ends with <see cref="OperationCanceledException"/> when its token is cancelled, and the consumer still works after.</summary>
    [Fact]
    public async Task Fetch_WhenCancelled_ThrowsOperationCanceledAndConsumerStaysUsable()
    {
        var consumer = Store.OpenConsumer(Queue);
        using var cts = new CancellationTokenSource();
        var fetch = consumer.FetchAsync(cts.Token).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch.WaitAsync(TimeSpan.FromMinutes(1)));
        await Store.EnqueueAsync(NewJob(2), CancellationToken.None);
        var fetched = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(new ConformanceJob(2), fetched.Job);
    }

    /// <summary>A rescheduled job is not handed out before its time (on the store's own clock without <see cref="JobStoreCapabilities.InjectedClock"/>), then comes back as the next attempt with its errors.</summary>
    [Fact]
    public async Task Reschedule_InFuture_ReturnsJobOnlyWhenDue()
    {
        await Store.EnqueueAsync(NewJob(3), CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        first.AddError(new JobError(1, Time.GetUtcNow(), "System.Exception", "boom", null));

        JobRecord second;
        if (HasInjectedClock)
        {
            await Store.RescheduleAsync(first, Time.GetUtcNow().AddMinutes(5), CancellationToken.None);
            Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
            Assert.Equal(0, (await Store.CountAsync(Queue, CancellationToken.None)).Waiting);

            Time.Advance(TimeSpan.FromTicks(1));
            second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        }
        else
        {
            second = await FetchNotBeforeOwnClockDelayAsync(consumer, runAt => Store.RescheduleAsync(first, runAt, CancellationToken.None).AsTask());
        }

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.Attempt);
        Assert.Equal("boom", Assert.Single(second.Errors).Message);
    }

    /// <summary>A job rescheduled for now is handed out again at once.</summary>
    [Fact]
    public async Task Reschedule_Now_ReturnsJobImmediately()
    {
        await Store.EnqueueAsync(NewJob(4), CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        await Store.RescheduleAsync(first, Time.GetUtcNow(), CancellationToken.None);

        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(first.Id, second.Id);
    }

    /// <summary>Completed and dead-lettered jobs are never handed out again.</summary>
    [Fact]
    public async Task CompleteAndDeadLetter_RemoveJobFromQueue()
    {
        await Store.EnqueueBatchAsync([NewJob(5), NewJob(6), NewJob(7)], CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        await Store.CompleteAsync(await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard), CancellationToken.None);
        await Store.DeadLetterAsync(await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard), DeadLetters, CancellationToken.None);

        var third = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        Assert.Equal(new ConformanceJob(7), third.Job);
        Assert.Equal(0, (await Store.CountAsync(Queue, CancellationToken.None)).Waiting);
    }

    /// <summary>Four producers and four consumers racing: every job is handed out exactly once.</summary>
    [Fact]
    public async Task Fetch_ConcurrentProducersAndConsumers_HandsOutEachJobExactlyOnce()
    {
        const int Producers = 4;
        const int PerProducer = 5_000;
        const int Total = Producers * PerProducer;
        var seen = new int[Total];
        var taken = 0;
        var allTaken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();

        var consumers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var consumer = Store.OpenConsumer(Queue);
            while (true)
            {
                JobRecord job;
                try
                {
                    job = await consumer.FetchAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                Interlocked.Increment(ref seen[((ConformanceJob)job.Job).Number]);
                await Store.CompleteAsync(job, CancellationToken.None);
                if (Interlocked.Increment(ref taken) == Total)
                {
                    allTaken.SetResult();
                }
            }
        })).ToArray();

        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < PerProducer; i++)
            {
                await Store.EnqueueAsync(NewJob((p * PerProducer) + i), CancellationToken.None);
            }
        })).ToArray();

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(2));
        try
        {
            await allTaken.Task.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException ex)
        {
            // Say how far it got and why consumers stopped, so a stall can be told from a store that lost jobs.
            var faults = consumers.Where(c => c.IsFaulted).Select(c => c.Exception!.GetBaseException().ToString());
            throw new TimeoutException($"{Volatile.Read(ref taken)} of {Total} jobs were fetched and completed within 2 minutes; {consumers.Count(c => c.IsFaulted)} of {consumers.Length} consumers failed: {string.Join(" || ", faults)}", ex);
        }

        await stop.CancelAsync();
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.All(seen, count => Assert.Equal(1, count));
    }

    /// <summary>A second enqueue with a live job's idempotency key is a duplicate naming the original; once the key's job succeeded and its retention passed, the key is free again. A store without <see cref="JobStoreCapabilities.IdempotencyKeys"/> refuses the keyed job and enqueues nothing.</summary>
    [Fact]
    public async Task Enqueue_DuplicateIdempotencyKey_IsRefusedUntilRetentionPasses()
    {
        if (!HasIdempotencyKeys)
        {
            await AssertKeyedEnqueueRefusedAsync(NewJob(1, "key-1"));
            return;
        }

        var first = await Store.EnqueueAsync(NewJob(1, "key-1"), CancellationToken.None);
        var duplicate = await Store.EnqueueAsync(NewJob(2, "key-1"), CancellationToken.None);
        Assert.Equal(EnqueueStatus.Accepted, first.Status);
        Assert.Equal(new EnqueueResult(first.JobId, EnqueueStatus.Duplicate), duplicate);

        var consumer = Store.OpenConsumer(Queue);
        await Store.CompleteAsync(await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard), CancellationToken.None);
        Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromTicks(1));
        Assert.Equal(EnqueueStatus.Duplicate, (await Store.EnqueueAsync(NewJob(3, "key-1"), CancellationToken.None)).Status);

        Time.Advance(TimeSpan.FromTicks(1));
        var again = await Store.EnqueueAsync(NewJob(4, "key-1"), CancellationToken.None);
        Assert.Equal(EnqueueStatus.Accepted, again.Status);
        Assert.Equal(new ConformanceJob(4), (await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard)).Job);
    }

    /// <summary>A dead-lettered job frees its idempotency key (a store without <see cref="JobStoreCapabilities.IdempotencyKeys"/> refuses the keyed job and enqueues nothing).</summary>
    [Fact]
    public async Task DeadLetter_FreesIdempotencyKey()
    {
        if (!HasIdempotencyKeys)
        {
            await AssertKeyedEnqueueRefusedAsync(NewJob(1, "key-2"));
            return;
        }

        await Store.EnqueueAsync(NewJob(1, "key-2"), CancellationToken.None);
        var job = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await Store.DeadLetterAsync(job, DeadLetters, CancellationToken.None);

        var again = await Store.EnqueueAsync(NewJob(2, "key-2"), CancellationToken.None);

        Assert.Equal(EnqueueStatus.Accepted, again.Status);
    }

    /// <summary>A batch with repeated keys accepts the first of each and reports the rest as duplicates, in order (a store without <see cref="JobStoreCapabilities.IdempotencyKeys"/> refuses the whole batch before enqueuing any of it).</summary>
    [Fact]
    public async Task EnqueueBatch_RepeatedKeys_AcceptsFirstOfEach()
    {
        JobRecord[] jobs = [NewJob(1, "a"), NewJob(2, "b"), NewJob(3, "a")];
        if (!HasIdempotencyKeys)
        {
            await AssertKeyedBatchRefusedAsync([NewJob(0), .. jobs]);
            return;
        }

        var results = await Store.EnqueueBatchAsync(jobs, CancellationToken.None);

        Assert.Equal([EnqueueStatus.Accepted, EnqueueStatus.Accepted, EnqueueStatus.Duplicate], results.Select(r => r.Status));
        Assert.Equal(jobs[0].Id, results[2].JobId);
        Assert.Equal(2, (await Store.CountAsync(Queue, CancellationToken.None)).Waiting);
    }

    /// <summary>A job enqueued with a start time is not handed out before it (on the store's own clock without <see cref="JobStoreCapabilities.InjectedClock"/>).</summary>
    [Fact]
    public async Task Enqueue_NotBeforeInFuture_HandsJobOutOnlyWhenDue()
    {
        if (!HasInjectedClock)
        {
            var due = await FetchNotBeforeOwnClockDelayAsync(Store.OpenConsumer(Queue), runAt => Store.EnqueueAsync(NewJob(1, notBefore: runAt), CancellationToken.None).AsTask());
            Assert.Equal(new ConformanceJob(1), due.Job);
            return;
        }

        await Store.EnqueueAsync(NewJob(1, notBefore: Time.GetUtcNow().AddSeconds(30)), CancellationToken.None);
        Time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await Store.CountAsync(Queue, CancellationToken.None)).Waiting);

        Time.Advance(TimeSpan.FromTicks(1));

        var job = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(new ConformanceJob(1), job.Job);
    }

    /// <summary>Dead letters can be listed in pages, fetched, deleted and purged, and keep the job's errors.</summary>
    [Fact]
    public async Task DeadLetterQueue_ListGetDeletePurge_Work()
    {
        var consumer = Store.OpenConsumer(Queue);
        await Store.EnqueueBatchAsync([NewJob(1), NewJob(2), NewJob(3)], CancellationToken.None);
        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            job.AddError(new JobError(1, Time.GetUtcNow(), "System.Exception", $"error {i}", "at Somewhere()"));
            await Store.DeadLetterAsync(job, DeadLetters, CancellationToken.None);
            ids.Add(job.Id);
        }

        Assert.Equal(3, await DeadLetterQueue.CountAsync(DeadLetters.Name));
        var page = await DeadLetterQueue.ListAsync(DeadLetters.Name, skip: 1, take: 1);
        Assert.Equal(ids[1], Assert.Single(page).JobId);
        var entry = await DeadLetterQueue.GetAsync(ids[0]);
        Assert.NotNull(entry);
        Assert.Equal("error 0", Assert.Single(entry.Errors).Message);
        Assert.Equal(new ConformanceJob(1), entry.Job);
        Assert.Equal(DeadLetters.Name, entry.DeadLetterQueue);

        Assert.True(await DeadLetterQueue.DeleteAsync(ids[0]));
        Assert.False(await DeadLetterQueue.DeleteAsync(ids[0]));
        Assert.Null(await DeadLetterQueue.GetAsync(ids[0]));
        Assert.Equal(2, await DeadLetterQueue.PurgeAsync(DeadLetters.Name));
        Assert.Equal(0, await DeadLetterQueue.CountAsync(DeadLetters.Name));
    }

    /// <summary>A requeued dead letter runs again as a fresh first attempt, and leaves the dead-letter queue.</summary>
    [Fact]
    public async Task DeadLetterQueue_Requeue_HandsJobOutAgainAsFirstAttempt()
    {
        var consumer = Store.OpenConsumer(Queue);
        await Store.EnqueueAsync(NewJob(1), CancellationToken.None);
        var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await Store.DeadLetterAsync(job, DeadLetters, CancellationToken.None);

        Assert.True(await DeadLetterQueue.RequeueAsync(job.Id));

        var again = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(job.Id, again.Id);
        Assert.Equal(1, again.Attempt);
        Assert.Equal(0, await DeadLetterQueue.CountAsync(DeadLetters.Name));
        Assert.False(await DeadLetterQueue.RequeueAsync(job.Id));
    }

    /// <summary>Requeuing a whole dead-letter queue hands every job out again as a first attempt, in the order they failed, and empties it.</summary>
    [Fact]
    public async Task DeadLetterQueue_RequeueAll_HandsEveryJobOutAgainAsFirstAttempt()
    {
        var consumer = Store.OpenConsumer(Queue);
        await Store.EnqueueBatchAsync([NewJob(1), NewJob(2), NewJob(3)], CancellationToken.None);
        var failed = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            job.AddError(new JobError(job.Attempt, Time.GetUtcNow(), "Test.Failure", "failed for the test", null));
            await Store.DeadLetterAsync(job, DeadLetters, CancellationToken.None);
            failed.Add(job.Id);
        }

        Assert.Equal(3, await DeadLetterQueue.RequeueAllAsync(DeadLetters.Name));

        Assert.Equal(0, await DeadLetterQueue.CountAsync(DeadLetters.Name));
        var again = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            Assert.Equal(1, job.Attempt);
            again.Add(job.Id);
        }

        Assert.Equal(failed, again);
        Assert.Equal(0, await DeadLetterQueue.RequeueAllAsync(DeadLetters.Name));
    }

    /// <summary>Counts tell waiting jobs from those scheduled for later, and a fetched job is no longer waiting.</summary>
    [Fact]
    public async Task Count_WaitingScheduledAndFetched_CountsEachState()
    {
        await Store.EnqueueBatchAsync([NewJob(1), NewJob(2), NewJob(3, notBefore: Time.GetUtcNow().AddMinutes(5))], CancellationToken.None);

        var before = await Store.CountAsync(Queue, CancellationToken.None);
        var fetched = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        // Read until it holds (a broker's consumer may still be taking the other job ahead into this process), and
        // checked: a store that miscounts never gets there.
        var after = await Store.CountAsync(Queue, CancellationToken.None);
        var started = TimeProvider.System.GetTimestamp();
        while ((after.Waiting, after.Scheduled) != (1L, 1L) && TimeProvider.System.GetElapsedTime(started) < Guard)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10));
            after = await Store.CountAsync(Queue, CancellationToken.None);
        }

        Assert.Equal((2L, 1L), (before.Waiting, before.Scheduled));
        Assert.Equal((1L, 1L), (after.Waiting, after.Scheduled));
        Assert.True(after.Running is null or 1, $"a store that tracks running jobs counts the fetched one; it counted {after.Running}");
        await Store.CompleteAsync(fetched, CancellationToken.None);
        Assert.True((await Store.CountAsync(Queue, CancellationToken.None)).Running is null or 0);
    }

    /// <summary>A dead-letter queue keeps at most its capacity and nothing older than its retention (on the store's own clock without <see cref="JobStoreCapabilities.InjectedClock"/>); the oldest go first, and a dead letter goes to its own queue only.</summary>
    [Fact]
    public async Task DeadLetterQueue_PastCapacityOrRetention_EvictsOldest()
    {
        var consumer = Store.OpenConsumer(Queue);
        await Store.EnqueueBatchAsync([.. Enumerable.Range(0, 4).Select(i => NewJob(i))], CancellationToken.None);
        var ids = new List<JobId>();
        for (var i = 0; i < 4; i++)
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            await Store.DeadLetterAsync(job, DeadLetters, CancellationToken.None);
            ids.Add(job.Id);
            Time.Advance(TimeSpan.FromHours(1));
        }

        Assert.Equal(ids[1..], (await DeadLetterQueue.ListAsync(DeadLetters.Name)).Select(e => e.JobId));
        if (!HasInjectedClock)
        {
            await AssertRetentionOnOwnClockAsync(consumer);
            Assert.Equal(ids[1..], (await DeadLetterQueue.ListAsync(DeadLetters.Name)).Select(e => e.JobId));
            return;
        }

        // ids[1] was dead-lettered 3 hours ago; a day after it, it is past the 1-day retention, the others not yet.
        Time.Advance(TimeSpan.FromHours(21));
        Assert.Equal(ids[2..], (await DeadLetterQueue.ListAsync(DeadLetters.Name)).Select(e => e.JobId));
    }

    /// <summary>
    /// At-least-once bookkeeping: a job that fails and runs again keeps its id, value, enqueue time, idempotency key and
    /// attempt limit, counts its attempts up, and keeps every earlier attempt's error in order (a durable store persists them).
    /// </summary>
    [Fact]
    public async Task Reschedule_AfterEachFailure_KeepsRecordFieldsAndEveryErrorInOrder()
    {
        var enqueued = new JobRecord(JobId.NewId(), nameof(ConformanceJob), Queue, new ConformanceJob(11), Time.GetUtcNow()) { IdempotencyKey = HasIdempotencyKeys ? "key-11" : null, MaxAttempts = 5 };
        await Store.EnqueueAsync(enqueued, CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);

        var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Assert.Equal(attempt, job.Attempt);
            job.AddError(new JobError(attempt, Time.GetUtcNow(), "System.Exception", $"failure {attempt}", "at Handler()"));
            await Store.RescheduleAsync(job, Time.GetUtcNow(), CancellationToken.None);
            job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        }

        Assert.Equal(enqueued.Id, job.Id);
        Assert.Equal(new ConformanceJob(11), job.Job);
        Assert.Equal(enqueued.EnqueuedAt, job.EnqueuedAt);
        Assert.Equal(enqueued.IdempotencyKey, job.IdempotencyKey);
        Assert.Equal(5, job.MaxAttempts);
        Assert.Equal(3, job.Attempt);
        Assert.Equal(["failure 1", "failure 2"], job.Errors.Select(e => e.Message));
        Assert.Equal([1, 2], job.Errors.Select(e => e.Attempt));
    }

    /// <summary>A job handed back without spending an attempt (the dispatcher's shutdown path: attempt decremented, rescheduled now) comes back as the same attempt.</summary>
    [Fact]
    public async Task Reschedule_HandedBackWithAttemptUndone_ComesBackAsSameAttempt()
    {
        await Store.EnqueueAsync(NewJob(12), CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        var interrupted = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        interrupted.Attempt--;
        await Store.RescheduleAsync(interrupted, Time.GetUtcNow(), CancellationToken.None);

        var again = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(interrupted.Id, again.Id);
        Assert.Equal(1, again.Attempt);
    }

    /// <summary>A fetched job is leased to its consumer: no other consumer gets it until it is settled; then it runs again as the next attempt.</summary>
    [Fact]
    public async Task Fetch_JobLeasedToOneConsumer_IsNotHandedToAnotherUntilSettled()
    {
        await Store.EnqueueAsync(NewJob(13), CancellationToken.None);
        var first = Store.OpenConsumer(Queue);
        var second = Store.OpenConsumer(Queue);
        var leased = await first.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        var waiting = second.FetchAsync(CancellationToken.None).AsTask();
        await Store.EnqueueAsync(NewJob(14), CancellationToken.None);
        Assert.Equal(new ConformanceJob(14), (await waiting.WaitAsync(TimeSpan.FromMinutes(1))).Job);

        await Store.RescheduleAsync(leased, Time.GetUtcNow(), CancellationToken.None);
        var retried = await second.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(leased.Id, retried.Id);
        Assert.Equal(2, retried.Attempt);
    }
}
