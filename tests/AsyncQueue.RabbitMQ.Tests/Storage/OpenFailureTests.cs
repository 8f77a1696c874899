using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>A store that cannot work fails the host's start with one message that names the broker and the setting at fault.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class OpenFailureTests(RabbitMqServer server)
{
    [Fact]
    public async Task Start_UnreachableBroker_FailsNamingEndpointAndSetting()
    {
        var endpoint = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{UnusedPort()}");

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync($"amqp://guest:guest@{endpoint}/", o => o.ConnectTimeout = TimeSpan.FromSeconds(2)));

        Assert.Contains("could not connect to " + endpoint, failure.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitMqStoreOptions.Uri", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WrongPassword_FailsSayingTheCredentialsWereRefusedWithoutShowingThem()
    {
        var uri = server.Uri.Replace("guest:guest", "guest:wrong-password", StringComparison.Ordinal);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(uri));

        Assert.Contains("could not sign in", failure.Message, StringComparison.Ordinal);
        Assert.Contains("guest:***@", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidOptions_FailsNamingEachProperty()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync("http://localhost", o =>
        {
            o.ConnectTimeout = TimeSpan.Zero;
            o.PrefetchCount = 0;
        }));

        Assert.Contains("RabbitMqStoreOptions.Uri", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitMqStoreOptions.ConnectTimeout", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitMqStoreOptions.PrefetchCount must be between 1 and 65535, but was 0", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rabbit-2:70000")]
    [InlineData("amqp://rabbit-2:5672")]
    [InlineData("guest@rabbit-2")]
    [InlineData(" ")]
    public async Task Start_InvalidEndpoint_FailsNamingEndpointsAndTheEntry(string endpoint)
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(server.Uri, o => o.Endpoints.Add(endpoint)));

        Assert.Contains($"RabbitMqStoreOptions.Endpoints holds '{endpoint}', which is not a host:port", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UriNodeDownAndAnotherEndpointUp_ConnectsToTheOneThatAnswers()
    {
        // The node Uri names refuses connections; the broker is reachable only through Endpoints.
        var down = string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{UnusedPort()}/");
        var up = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{server.Server.Port}");

        await StartAsync(down, o => o.Endpoints.Add(up));
    }

    [Fact]
    public async Task Start_NoEndpointAnswers_FailsNamingEveryEndpoint()
    {
        var first = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{UnusedPort()}");
        var second = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{UnusedPort()}");

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(
            () => StartAsync($"amqp://guest:guest@{first}/", o => { o.Endpoints.Add(second); o.ConnectTimeout = TimeSpan.FromSeconds(2); }));

        Assert.Contains($"could not connect to {first}, {second}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitMqStoreOptions.Endpoints", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_QueueDeclaredElsewhereIsMissing_FailsNamingDeclareTopology()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(server.Uri, o => o.DeclareTopology = false));

        Assert.Contains("does not exist", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitMqStoreOptions.DeclareTopology", failure.Message, StringComparison.Ordinal);
    }

    private static async Task StartAsync(string uri, Action<RabbitMqStoreOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TestRuns>();
        builder.Services.AddJobQueue().AddHandler<TestJob, TestJobHandler>(RabbitMqServer.NewQueue()).UseRabbitMq(uri, configure);
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
