using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>At start the store reads the server's persistence settings and warns when a crash of Redis can lose accepted jobs.</summary>
public sealed class PersistenceCheckTests
{
    [Theory]
    [InlineData("always", false)]
    [InlineData("everysec", true)]
    [InlineData("no", true)]
    public async Task Start_AppendFsyncSetting_WarnsUnlessAlways(string fsync, bool warns)
    {
        await using var server = await ThrowawayRedisServer.StartAsync("--appendfsync", fsync);

        var logs = await OpenAndCollectLogsAsync(server.Configuration);

        Assert.Equal(warns, logs.Any(r => r.Level == LogLevel.Warning && r.Id.Id == 302 && r.Message.Contains("appendfsync " + fsync, StringComparison.Ordinal)));
        Assert.Contains(logs, r => r.Id.Id == 301 && r.Message.Contains("appendonly yes, appendfsync " + fsync, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_ConfigCommandDisabled_WarnsThatPersistenceIsUnknown()
    {
        await using var server = await ThrowawayRedisServer.StartAsync("--rename-command", "CONFIG", "");

        var logs = await OpenAndCollectLogsAsync(server.Configuration);

        Assert.Contains(logs, r => r.Level == LogLevel.Warning && r.Id.Id == 303);
    }

    private static async Task<IReadOnlyList<FakeLogRecord>> OpenAndCollectLogsAsync(string configuration)
    {
        var collector = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(collector)));
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>("persistence").UseRedis(configuration, o => o.KeyPrefix = RedisServer.NewPrefix());
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IJobStore>();
        return collector.GetSnapshot();
    }
}
