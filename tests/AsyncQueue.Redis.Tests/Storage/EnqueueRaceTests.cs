using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>The idempotency key is claimed inside the enqueue script, so racing producers cannot both win it.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class EnqueueRaceTests(RedisServer server)
{
    [Fact]
    public async Task Enqueue_1000RacingEnqueuesOfOneKeyFrom16Tasks_AcceptsOneJob()
    {
        var services = new ServiceCollection();
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>("race").UseRedis(server.Configuration, o => o.KeyPrefix = RedisServer.NewPrefix());
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IJobStore>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var producers = Enumerable.Range(0, 16).Select(p => Task.Run(async () =>
        {
            await start.Task;
            var results = new List<EnqueueResult>();
            for (var i = p; i < 1_000; i += 16)
            {
                var job = new JobRecord(JobId.NewId(), nameof(ConformanceJob), "race", new ConformanceJob(i), TimeProvider.System.GetUtcNow()) { IdempotencyKey = "the-key" };
                results.Add(await store.EnqueueAsync(job, CancellationToken.None));
            }

            return results;
        })).ToArray();
        start.SetResult();
        var all = (await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(2))).SelectMany(r => r).ToList();

        Assert.Equal(1_000, all.Count);
        var accepted = Assert.Single(all, r => r.Status == EnqueueStatus.Accepted);
        Assert.All(all, r => Assert.Equal(accepted.JobId, r.JobId));
        var counts = await store.CountAsync("race", CancellationToken.None);
        Assert.Equal(1, counts.Waiting);
    }
}
