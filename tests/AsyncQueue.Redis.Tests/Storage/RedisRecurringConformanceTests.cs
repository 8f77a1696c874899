namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>The recurring conformance test on one Redis key prefix shared by two job queues.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisRecurringConformanceTests(RedisServer server) : RecurringConformanceTests
{
    private readonly string _prefix = RedisServer.NewPrefix();

    protected override void ConfigureStore(IJobQueueBuilder builder) => builder.UseRedis(server.Configuration, options => options.KeyPrefix = _prefix);
}
