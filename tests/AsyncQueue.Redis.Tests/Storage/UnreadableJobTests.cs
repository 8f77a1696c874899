using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>
/// Jobs that cannot be read, written straight into Redis (a corrupt payload, a kind with no handler), are handed to the
/// dispatcher as <see cref="UnreadableJob"/>s and dead-lettered with the reason; the jobs around them run.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class UnreadableJobTests(RedisServer server)
{
    private const string Queue = "unreadable";

    [Fact]
    public async Task Fetch_CorruptPayloadAndUnknownKind_AreDeadLetteredWithTheReason()
    {
        var prefix = RedisServer.NewPrefix();
        var ran = new RunCounter();
        await using var host = await JobQueueTestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(ran);
            queue.AddHandler<ConformanceJob, CountingHandler>(Queue, q => q.DeadLetterQueue = "unreadable-dead").UseRedis(server.Configuration, o => o.KeyPrefix = prefix);
        });
        await host.Queue.PauseAsync(Queue);
        var corrupt = (await host.Queue.EnqueueAsync(new ConformanceJob(1))).JobId;
        var unknown = (await host.Queue.EnqueueAsync(new ConformanceJob(2))).JobId;
        await host.Queue.EnqueueAsync(new ConformanceJob(3));

        // As a foreign writer (or a changed job type) would leave them.
        using (var redis = await ConnectionMultiplexer.ConnectAsync(server.Configuration))
        {
            var db = redis.GetDatabase();
            await db.HashSetAsync($"{{{prefix}:{Queue}}}:job:{corrupt.Value:N}", "payload", "{\"Number\": not json");
            await db.HashSetAsync($"{{{prefix}:{Queue}}}:job:{unknown.Value:N}", "kind", "no-such-kind");
        }

        await host.Queue.ResumeAsync(Queue);
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        await Poll.UntilAsync(async () => await deadLetters.CountAsync("unreadable-dead") == 2 && ran.Count == 1, "both unreadable jobs were dead-lettered and the good one ran");

        var corruptEntry = (await deadLetters.GetAsync(corrupt))!;
        var unknownEntry = (await deadLetters.GetAsync(unknown))!;
        Assert.Contains("does not deserialize", Assert.Single(corruptEntry.Errors).Message, StringComparison.Ordinal);
        Assert.Equal("{\"Number\": not json", Assert.IsType<UnreadableJob>(corruptEntry.Job).Payload);
        Assert.Contains("No handler is registered for job kind 'no-such-kind'", Assert.Single(unknownEntry.Errors).Message, StringComparison.Ordinal);
        Assert.Equal("no-such-kind", unknownEntry.Kind);
    }

    public sealed class RunCounter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Ran() => Interlocked.Increment(ref _count);
    }

    public sealed class CountingHandler(RunCounter counter) : IJobHandler<ConformanceJob>
    {
        public Task HandleAsync(ConformanceJob job, JobContext context, CancellationToken cancellationToken)
        {
            counter.Ran();
            return Task.CompletedTask;
        }
    }
}
