using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Conformance;

/// <summary>A service provider with the job queue's hosted services started, as a host would run them. Shared by the store test projects.</summary>
public sealed class JobQueueTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;
    private bool _stopped;

    private JobQueueTestHost(ServiceProvider services, IHostedService[] hosted)
    {
        _services = services;
        _hosted = hosted;
    }

    /// <summary>Gets the host's services.</summary>
    public IServiceProvider Services => _services;

    /// <summary>Gets the job queue.</summary>
    public IJobQueue Queue => _services.GetRequiredService<IJobQueue>();

    /// <summary>Builds the services, lets <paramref name="configure"/> register handlers and a store, and starts the hosted services.</summary>
    /// <param name="configure">Registers services and configures the job queue.</param>
    /// <returns>The started host.</returns>
    public static async Task<JobQueueTestHost> StartAsync(Action<IServiceCollection, IJobQueueBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        configure(services, services.AddJobQueue());
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        try
        {
            // Resolving the hosted services builds the store: a database it cannot use fails here, as at a host's start.
            var host = new JobQueueTestHost(provider, [.. provider.GetServices<IHostedService>()]);
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

    /// <summary>Stops the hosted services once, giving running jobs 30 seconds.</summary>
    /// <returns>A task that completes when they stopped.</returns>
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

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _services.DisposeAsync();
    }
}
