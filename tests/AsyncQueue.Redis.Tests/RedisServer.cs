namespace AsyncQueue.Redis.Tests;

/// <summary>
/// The xunit fixture around one <see cref="ThrowawayRedisServer"/> for the test run, shared by every test class of the
/// <see cref="RedisServerGroup"/>; each test uses its own key prefix, so tests never see each other's jobs.
/// </summary>
/// <remarks>A missing binary fails every test loudly, with what to install; the tests never skip.</remarks>
public sealed class RedisServer : IAsyncLifetime
{
    private ThrowawayRedisServer? _server;

    public string Configuration => Server.Configuration;

    public ThrowawayRedisServer Server => _server ?? throw new InvalidOperationException("The Redis test server has not started.");

    /// <summary>A fresh key prefix per store, so tests never see each other's jobs.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync() => _server = await ThrowawayRedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The test classes that share one <see cref="RedisServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RedisServerGroup : ICollectionFixture<RedisServer>
{
    public const string Name = "Redis server";
}
