using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>
/// At the default settings (<see cref="RedisStoreOptions.LeaseAhead"/> and
/// <see cref="RedisStoreOptions.AsynchronousCompletions"/> on) the process that leased jobs ahead counts them, and
/// reads their status, as waiting: none has started. Its counts and status reads see its own queued completions
/// recorded, as if its workers had waited for Redis.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class LeaseAheadTests(RedisServer server)
{
    private const string Queue = "ahead";
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task FetchCompleteCount_ManyRounds_CountsJobsLeasedAheadAsWaiting()
    {
        const int Rounds = 100;
        var prefix = RedisServer.NewPrefix();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var provider = Build(prefix, time);
        var store = provider.GetRequiredService<IJobStore>();
        await store.EnqueueBatchAsync([.. Enumerable.Range(0, Rounds + 1).Select(i => NewJob(i, time))], CancellationToken.None);
        var consumer = store.OpenConsumer(Queue);

        // Each completion makes the fetch loop lease ahead for the settling worker while the count runs: a count that
        // read a lease whose reply was still on its way, or a completion still queued, read a job as running.
        for (var round = 1; round <= Rounds; round++)
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            await store.CompleteAsync(job, CancellationToken.None);
            Assert.Equal((Rounds + 1L - round, 0L), Pair(await store.CountAsync(Queue, CancellationToken.None)));
        }
    }

    [Fact]
    public async Task GetJob_LeasedAheadAndUntaken_ReadsWaitingHereAndRunningElsewhere()
    {
        var prefix = RedisServer.NewPrefix();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var first = Build(prefix, time);
        await using var second = Build(prefix, time);
        var here = first.GetRequiredService<IJobStore>();
        var there = second.GetRequiredService<IJobStore>();
        var jobs = Enumerable.Range(0, 3).Select(i => NewJob(i, time)).ToArray();
        await here.EnqueueBatchAsync(jobs, CancellationToken.None);

        var job = await here.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await here.CompleteAsync(job, CancellationToken.None);

        // The completion makes this process lease the other two ahead; the other process, which reads Redis alone, sees
        // them leased.
        await Poll.UntilAsync(async () => (await there.CountAsync(Queue, CancellationToken.None)).Running == 2, "the two jobs are leased ahead");
        var status = await here.GetJobAsync(jobs[1].Id, CancellationToken.None);
        Assert.Equal((JobState.Waiting, 0), (status!.State, status.Attempt));
        Assert.Null(status.StartedAt);
        Assert.Equal(JobState.Running, (await there.GetJobAsync(jobs[1].Id, CancellationToken.None))!.State);
        Assert.Equal(JobState.Succeeded, (await here.GetJobAsync(job.Id, CancellationToken.None))!.State);
        Assert.Equal((2L, 0L), Pair(await here.CountAsync(Queue, CancellationToken.None)));
    }

    [Fact]
    public async Task GetJobAndCount_AfterQueuedCompletion_ReadItRecorded()
    {
        const int Rounds = 50;
        var prefix = RedisServer.NewPrefix();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var provider = Build(prefix, time);
        var store = provider.GetRequiredService<IJobStore>();
        var consumer = store.OpenConsumer(Queue);

        // CompleteAsync returns before Redis records the completion (its lease is fresh); what this process reads next
        // must not tell.
        for (var round = 0; round < Rounds; round++)
        {
            await store.EnqueueBatchAsync([NewJob(2 * round, time), NewJob((2 * round) + 1, time)], CancellationToken.None);
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            await store.CompleteAsync(job, CancellationToken.None);
            Assert.Equal(JobState.Succeeded, (await store.GetJobAsync(job.Id, CancellationToken.None))!.State);

            job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            await store.CompleteAsync(job, CancellationToken.None);
            Assert.Equal((0L, 0L), Pair(await store.CountAsync(Queue, CancellationToken.None)));
        }
    }

    private static (long Waiting, long Running) Pair(QueueCounts counts) => (counts.Waiting, counts.Running ?? -1);

    private static JobRecord NewJob(int number, TimeProvider time) =>
        new(JobId.NewId(), nameof(ConformanceJob), Queue, new ConformanceJob(number), time.GetUtcNow());

    private ServiceProvider Build(string prefix, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>(Queue).UseRedis(server.Configuration, o => o.KeyPrefix = prefix);
        return services.BuildServiceProvider();
    }
}
