using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>Scripts are called by SHA; a server that forgot them (restarted, or SCRIPT FLUSH) gets them again, and the call succeeds.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class ScriptReloadTests(RedisServer server)
{
    [Fact]
    public async Task Enqueue_AfterScriptFlush_ReloadsTheScriptAndSucceeds()
    {
        var collector = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(collector)));
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>("reload").UseRedis(server.Configuration, o => o.KeyPrefix = RedisServer.NewPrefix());
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IJobStore>();
        using (var admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true"))
        {
            await admin.GetServers()[0].ScriptFlushAsync();
        }

        var result = await store.EnqueueAsync(new JobRecord(JobId.NewId(), nameof(ConformanceJob), "reload", new ConformanceJob(1), TimeProvider.System.GetUtcNow()), CancellationToken.None);

        Assert.Equal(EnqueueStatus.Accepted, result.Status);
        Assert.Equal(1, (await store.CountAsync("reload", CancellationToken.None)).Waiting);
        Assert.Contains(collector.GetSnapshot(), r => r.Id.Id == 307 && r.Level == LogLevel.Information && r.Message.Contains("'enqueue'", StringComparison.Ordinal));
    }
}
