using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.PostgreSql.Tests;

/// <summary>A service provider with the job queue's hosted services started, as a host would run them.</summary>
public sealed class PostgreSqlTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;
    private bool _stopped;

    private PostgreSqlTestHost(ServiceProvider services, IHostedService[] hosted)
    {
        _services = services;
        _hosted = hosted;
    }

    public IServiceProvider Services => _services;

    public IJobQueue Queue => _services.GetRequiredService<IJobQueue>();

    public static async Task<PostgreSqlTestHost> StartAsync(Action<IServiceCollection, IJobQueueBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        configure(services, services.AddJobQueue());
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        try
        {
            // Resolving the hosted services builds the store: a database it cannot use fails here, as at a host's start.
            var host = new PostgreSqlTestHost(provider, [.. provider.GetServices<IHostedService>()]);
            foreach (var hosted in host._hosted)
            {
                await hosted.StartAsync(CancellationToken.None);
            }

            return host;
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var hosted in _hosted.Reverse())
        {
            await hosted.StopAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _services.DisposeAsync();
    }
}
