using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AsyncQueue.Conformance;

/// <summary>
/// The contract every <see cref="IJobStore"/> keeps, as tests. A store's test project subclasses this class and
/// overrides <see cref="ConfigureStore"/>; the in-memory store passes it as it is.
/// </summary>
public abstract class JobStoreConformanceTests : IAsyncLifetime
{
    /// <summary>The queue every test uses.</summary>
    protected const string Queue = "conformance";

    private ServiceProvider? _services;

    /// <summary>Gets the fake clock the store runs on.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Gets the store under test.</summary>
    protected IJobStore Store { get; private set; } = null!;

    /// <inheritdoc />
    public virtual Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        var builder = services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>(Queue, q => q.MaxConcurrency = 4);
        ConfigureStore(builder);
        _services = services.BuildServiceProvider();
        Store = _services.GetRequiredService<IJobStore>();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    /// <summary>Replaces the default store with the one under test, for example <c>builder.UseSqlite(...)</c>.</summary>
    /// <param name="builder">The job queue builder.</param>
    protected abstract void ConfigureStore(IJobQueueBuilder builder);

    /// <summary>A record for a new job of the test kind.</summary>
    /// <param name="number">The job's number.</param>
    /// <returns>The record.</returns>
    protected JobRecord NewJob(int number) =>
        new(JobId.NewId(), nameof(ConformanceJob), Queue, new ConformanceJob(number), Time.GetUtcNow());

    /// <summary>An enqueued job is fetched once, as the first attempt, with its id, kind and value.</summary>
    [Fact]
    public async Task Fetch_AfterEnqueue_ReturnsJobAsFirstAttempt()
    {
        var job = NewJob(7);
        await Store.EnqueueAsync(job, CancellationToken.None);

        var fetched = await Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None);

        Assert.Equal(job.Id, fetched.Id);
        Assert.Equal(nameof(ConformanceJob), fetched.Kind);
        Assert.Equal(new ConformanceJob(7), fetched.Job);
        Assert.Equal(1, fetched.Attempt);
        Assert.Equal(0, Store.CountWaiting(Queue));
    }

    /// <summary>One consumer sees jobs in enqueue order, single and batched.</summary>
    [Fact]
    public async Task Fetch_SingleConsumer_ReturnsJobsInEnqueueOrder()
    {
        await Store.EnqueueAsync(NewJob(0), CancellationToken.None);
        await Store.EnqueueBatchAsync([.. Enumerable.Range(1, 99).Select(NewJob)], CancellationToken.None);
        Assert.Equal(100, Store.CountWaiting(Queue));

        var consumer = Store.OpenConsumer(Queue);
        for (var i = 0; i < 100; i++)
        {
            var fetched = await consumer.FetchAsync(CancellationToken.None);
            Assert.Equal(new ConformanceJob(i), fetched.Job);
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
        var fetched = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new ConformanceJob(2), fetched.Job);
    }

    /// <summary>A rescheduled job is not handed out before its time, then comes back as the next attempt with its errors.</summary>
    [Fact]
    public async Task Reschedule_InFuture_ReturnsJobOnlyWhenDue()
    {
        await Store.EnqueueAsync(NewJob(3), CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        var first = await consumer.FetchAsync(CancellationToken.None);
        first.AddError(new JobError(1, Time.GetUtcNow(), "System.Exception", "boom", null));

        await Store.RescheduleAsync(first, Time.GetUtcNow().AddMinutes(5), CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal(0, Store.CountWaiting(Queue));

        Time.Advance(TimeSpan.FromTicks(1));
        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

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
        var first = await consumer.FetchAsync(CancellationToken.None);

        await Store.RescheduleAsync(first, Time.GetUtcNow(), CancellationToken.None);

        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(first.Id, second.Id);
    }

    /// <summary>Completed and dead-lettered jobs are never handed out again.</summary>
    [Fact]
    public async Task CompleteAndDeadLetter_RemoveJobFromQueue()
    {
        await Store.EnqueueBatchAsync([NewJob(5), NewJob(6), NewJob(7)], CancellationToken.None);
        var consumer = Store.OpenConsumer(Queue);
        await Store.CompleteAsync(await consumer.FetchAsync(CancellationToken.None), CancellationToken.None);
        await Store.DeadLetterAsync(await consumer.FetchAsync(CancellationToken.None), CancellationToken.None);

        var third = await consumer.FetchAsync(CancellationToken.None);

        Assert.Equal(new ConformanceJob(7), third.Job);
        Assert.Equal(0, Store.CountWaiting(Queue));
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
        await allTaken.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await stop.CancelAsync();
        await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.All(seen, count => Assert.Equal(1, count));
    }
}

/// <summary>The job the conformance suite enqueues.</summary>
/// <param name="Number">Tells the jobs apart.</param>
public sealed record ConformanceJob(int Number);

/// <summary>A handler so the kind is registered; the suite drives the store directly and never runs it.</summary>
public sealed class ConformanceJobHandler : IJobHandler<ConformanceJob>
{
    /// <inheritdoc />
    public Task HandleAsync(ConformanceJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
