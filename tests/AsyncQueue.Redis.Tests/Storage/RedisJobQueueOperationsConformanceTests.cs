namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>The operations (status, cancel, pause, priorities, idle) through whole job queues on the store, several processes sharing a prefix.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisJobQueueOperationsConformanceTests(RedisServer server) : DurableJobQueueOperationsConformanceTests
{
    private readonly string _prefix = RedisServer.NewPrefix();

    protected override TimeSpan HeartbeatStep => TimeSpan.FromSeconds(10);

    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UseRedis(server.Configuration, options =>
        {
            options.KeyPrefix = _prefix;
            options.LeaseDuration = TimeSpan.FromSeconds(30);
            options.HeartbeatInterval = TimeSpan.FromSeconds(10);
        });
}
