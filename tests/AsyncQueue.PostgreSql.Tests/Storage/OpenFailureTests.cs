using System.Net;
using System.Net.Sockets;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>A server the store cannot use fails the host's start with a message that says what is wrong.</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class OpenFailureTests(PostgreSqlServer server)
{
    [Fact]
    public async Task Start_UnreachableServer_FailsWithMessageNamingServer()
    {
        var port = ClosedPort();
        using var host = Host(builder => builder.UsePostgreSql($"Host=127.0.0.1;Port={port};Database=x;Username=postgres;Timeout=5"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("PostgreSqlStoreOptions.ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MissingDatabase_FailsWithServerMessage()
    {
        var connectionString = server.ConnectionString.Replace("Database=asyncqueue_tests", "Database=no_such_db", StringComparison.Ordinal);
        using var host = Host(builder => builder.UsePostgreSql(connectionString));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("no_such_db", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "ConnectionString")]
    [InlineData("Host=127.0.0.1;Bogus Key=1", "ConnectionString")]
    public async Task Start_BadConnectionString_FailsNamingProperty(string connectionString, string property)
    {
        using var host = Host(builder => builder.UsePostgreSql(connectionString));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("PostgreSqlStoreOptions." + property, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BadSchemaName_FailsNamingProperty()
    {
        using var host = Host(builder => builder.UsePostgreSql(server.ConnectionString, o => o.Schema = "bad-name; DROP"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("PostgreSqlStoreOptions.Schema", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ManyStoresAtOnceOnNewSchema_AllMigrate()
    {
        var schema = PostgreSqlServer.NewSchema();
        var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
        {
            var services = new ServiceCollection();
            services.AddJobQueue().AddHandler<PingJob, PingHandler>("ping").UsePostgreSql(server.ConnectionString, o => o.Schema = schema);
            var provider = services.BuildServiceProvider();
            provider.GetRequiredService<IJobStore>();
            return provider;
        })));

        foreach (var provider in stores)
        {
            await provider.DisposeAsync();
        }
    }

    private static IHost Host(Action<IJobQueueBuilder> configure)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        configure(builder.Services.AddJobQueue().AddHandler<PingJob, PingHandler>("ping"));
        return builder.Build();
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record PingJob(int Number);

public sealed class PingHandler : IJobHandler<PingJob>
{
    public Task HandleAsync(PingJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
