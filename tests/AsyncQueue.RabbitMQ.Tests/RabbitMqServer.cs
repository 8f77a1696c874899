namespace AsyncQueue.RabbitMQ.Tests;

/// <summary>
/// The xunit fixture around one <see cref="ThrowawayRabbitMqServer"/> for the test run, shared by every test class of
/// the <see cref="RabbitMqServerGroup"/>; each test uses queues of its own names, so tests never see each other's jobs.
/// </summary>
/// <remarks>A missing binary fails every test loudly, with what to install; the tests never skip.</remarks>
public sealed class RabbitMqServer : IAsyncLifetime
{
    private ThrowawayRabbitMqServer? _server;

    public string Uri => Server.Uri;

    public ThrowawayRabbitMqServer Server => _server ?? throw new InvalidOperationException("The RabbitMQ test broker has not started.");

    /// <summary>A fresh queue name per test, so tests never see each other's jobs.</summary>
    public static string NewQueue() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync() => _server = await ThrowawayRabbitMqServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The test classes that share one <see cref="RabbitMqServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqServerGroup : ICollectionFixture<RabbitMqServer>
{
    public const string Name = "RabbitMQ server";
}
