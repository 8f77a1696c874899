using System.Diagnostics.Metrics;
using AsyncQueue.Redis.Storage;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>What the store keeps and evicts: finished statuses past the queue's capacity, dead letters past their queue's capacity across feeding queues; and the server version it needs.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RetentionTests(RedisServer server)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Complete_PastFinishedJobCapacity_EvictsOldestStatusAndCountsIt()
    {
        long evicted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AsyncQueue" && instrument.Name == "asyncqueue.job.status.evicted")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref evicted, value));
        listener.Start();
        await using var provider = Build(q => q.FinishedJobCapacity = 2, "a");
        var store = provider.GetRequiredService<IJobStore>();
        var consumer = store.OpenConsumer("a");
        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            await store.EnqueueAsync(Job("a", i), CancellationToken.None);
            var job = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
            await store.CompleteAsync(job, CancellationToken.None);
            ids.Add(job.Id);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Null(await store.GetJobAsync(ids[0], CancellationToken.None));
        Assert.Equal(JobState.Succeeded, (await store.GetJobAsync(ids[1], CancellationToken.None))!.State);
        Assert.Equal(JobState.Succeeded, (await store.GetJobAsync(ids[2], CancellationToken.None))!.State);
        Assert.Equal(1, Interlocked.Read(ref evicted));
    }

    [Fact]
    public async Task DeadLetter_FromTwoQueuesIntoOne_KeepsTheCapacityAcrossThem()
    {
        await using var provider = Build(_ => { }, "a", "b");
        var store = provider.GetRequiredService<IJobStore>();
        var target = new DeadLetterTarget("shared-dead", TimeSpan.FromDays(1), 3);
        var ids = new List<JobId>();
        foreach (var queue in new[] { "a", "b", "a", "b" })
        {
            await store.EnqueueAsync(Job(queue, ids.Count), CancellationToken.None);
            var job = await store.OpenConsumer(queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
            await store.DeadLetterAsync(job, target, CancellationToken.None);
            ids.Add(job.Id);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, await store.DeadLetters.CountAsync("shared-dead"));
        Assert.Equal(ids[1..], (await store.DeadLetters.ListAsync("shared-dead")).Select(e => e.JobId));
    }

    [Theory]
    [InlineData("6.0.16", true)]
    [InlineData("6.2.0", false)]
    [InlineData("7.0.15", false)]
    public void VersionProblem_OlderThan62_NamesServerVersionAndSetting(string reported, bool refused)
    {
        var problem = RedisJobStore.VersionProblem(reported, "127.0.0.1:6379", "RedisStoreOptions.Configuration ('127.0.0.1:6379')");

        Assert.Equal(refused, problem is not null);
        if (refused)
        {
            Assert.Contains("127.0.0.1:6379", problem, StringComparison.Ordinal);
            Assert.Contains("Redis " + reported, problem, StringComparison.Ordinal);
            Assert.Contains("Redis 6.2 or later", problem, StringComparison.Ordinal);
        }
    }

    private JobRecord Job(string queue, int number) => new(JobId.NewId(), nameof(ConformanceJob), queue, new ConformanceJob(number), _time.GetUtcNow());

    private ServiceProvider Build(Action<QueueOptions> configure, params string[] queues)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        var builder = services.AddJobQueue();
        foreach (var queue in queues)
        {
            builder.ConfigureQueue(queue, configure);
        }

        builder.AddHandler<ConformanceJob, ConformanceJobHandler>(queues[0]).UseRedis(server.Configuration, o => o.KeyPrefix = RedisServer.NewPrefix());
        return services.BuildServiceProvider();
    }
}
