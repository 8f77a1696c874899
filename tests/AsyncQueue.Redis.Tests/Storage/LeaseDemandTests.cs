using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>
/// Without a buffer (<see cref="RedisStoreOptions.LeaseAhead"/> 0) a process leases only for its workers that wait for
/// a job: never for a worker still settling one, and never one job too many when a worker takes a job while the fetch
/// loop reads the demand. A job leased for nobody would read as running, and no other process could take it.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class LeaseDemandTests(RedisServer server)
{
    private const string Queue = "demand";
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Complete_NoLeaseAhead_LeasesNothingForTheSettlingWorker()
    {
        var prefix = RedisServer.NewPrefix();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var first = Build(prefix, time);
        await using var second = Build(prefix, time);
        var here = first.GetRequiredService<IJobStore>();
        var there = second.GetRequiredService<IJobStore>();
        await here.EnqueueBatchAsync([NewJob(1, time), NewJob(2, time)], CancellationToken.None);

        var job = await here.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await here.CompleteAsync(job, CancellationToken.None);

        // The worker that settled has not asked again: the second job is still waiting, for either process. (The lease
        // made for a settling worker was what the kit's Count_WaitingScheduledAndFetched_CountsEachState tripped on.)
        Assert.Equal((1L, 0L), Pair(await there.CountAsync(Queue, CancellationToken.None)));
        Assert.Equal((1L, 0L), Pair(await here.CountAsync(Queue, CancellationToken.None)));
        var next = await there.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal(new ConformanceJob(2), next.Job);
    }

    [Fact]
    public async Task FetchAndComplete_NoLeaseAhead_LeaveNothingLeasedBetweenJobs()
    {
        const int Rounds = 200;
        var prefix = RedisServer.NewPrefix();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var first = Build(prefix, time);
        await using var second = Build(prefix, time);
        var here = first.GetRequiredService<IJobStore>();
        var there = second.GetRequiredService<IJobStore>();
        await here.EnqueueBatchAsync([.. Enumerable.Range(0, Rounds + 1).Select(i => NewJob(i, time))], CancellationToken.None);
        var consumer = here.OpenConsumer(Queue);

        // Each fetch waits for a lease, and the fetch loop reads the demand again while the worker takes the job it
        // leased: a demand read in the wrong order there leased one job for nobody, seen here as running.
        for (var round = 1; round <= Rounds; round++)
        {
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            await here.CompleteAsync(job, CancellationToken.None);
            Assert.Equal((Rounds + 1L - round, 0L), Pair(await there.CountAsync(Queue, CancellationToken.None)));
        }
    }

    private static (long Waiting, long Running) Pair(QueueCounts counts) => (counts.Waiting, counts.Running ?? -1);

    private static JobRecord NewJob(int number, TimeProvider time) =>
        new(JobId.NewId(), nameof(ConformanceJob), Queue, new ConformanceJob(number), time.GetUtcNow());

    private ServiceProvider Build(string prefix, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>(Queue).UseRedis(server.Configuration, o =>
        {
            o.KeyPrefix = prefix;
            o.LeaseAhead = 0;

            // The other process reads Redis: a completion queued here and not yet recorded would read as running there.
            o.AsynchronousCompletions = false;
        });
        return services.BuildServiceProvider();
    }
}
