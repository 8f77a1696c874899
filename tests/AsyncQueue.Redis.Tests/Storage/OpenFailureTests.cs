using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>A store that cannot work fails the start with one message that names the server and the setting at fault.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class OpenFailureTests(RedisServer server)
{
    [Fact]
    public void Start_UnreachableServer_FailsNamingEndpointAndSetting()
    {
        var endpoint = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{UnusedPort()}");

        var failure = Assert.Throws<InvalidOperationException>(() => Open(endpoint, o => o.ConnectTimeout = TimeSpan.FromSeconds(1)));

        Assert.Contains("could not connect to " + endpoint, failure.Message, StringComparison.Ordinal);
        Assert.Contains("RedisStoreOptions.Configuration", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WrongPassword_FailsSayingThePasswordWasRefused()
    {
        await using var guarded = await ThrowawayRedisServer.StartAsync("--requirepass", "right-password");

        var wrong = Assert.Throws<InvalidOperationException>(() => Open(guarded.Configuration + ",password=wrong-password"));
        var missing = Assert.Throws<InvalidOperationException>(() => Open(guarded.Configuration));

        Assert.Contains("could not sign in to " + guarded.Configuration, wrong.Message, StringComparison.Ordinal);
        Assert.Contains("password=***", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("could not sign in to " + guarded.Configuration, missing.Message, StringComparison.Ordinal);
        await using var store = (IAsyncDisposable)Open(guarded.Configuration + ",password=right-password");
    }

    [Fact]
    public void Start_InvalidOptions_FailsNamingEachProperty()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Open(server.Configuration, o =>
        {
            o.KeyPrefix = "a{b}";
            o.HeartbeatInterval = TimeSpan.FromSeconds(20);
            o.FetchBatchSize = 0;
        }));

        Assert.Contains("RedisStoreOptions.KeyPrefix", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RedisStoreOptions.HeartbeatInterval", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RedisStoreOptions.FetchBatchSize", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_EmptyConfiguration_FailsNamingTheSetting()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Open(""));

        Assert.Contains("RedisStoreOptions.Configuration must name a Redis server", failure.Message, StringComparison.Ordinal);
    }

    private static IJobStore Open(string configuration, Action<RedisStoreOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>("startup").UseRedis(configuration, o =>
        {
            o.KeyPrefix = RedisServer.NewPrefix();
            configure?.Invoke(o);
        });
        var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IJobStore>();
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
