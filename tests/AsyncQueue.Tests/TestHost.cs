using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Tests;

/// <summary>A service provider with the job queue's hosted services started, as a host would run them.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;
    private bool _stopped;

    private TestHost(ServiceProvider services)
    {
        _services = services;
        _hosted = [.. services.GetServices<IHostedService>()];
    }

    public IServiceProvider Services => _services;

    public IJobQueue Queue => _services.GetRequiredService<IJobQueue>();

    public static async Task<TestHost> StartAsync(Action<IServiceCollection, IJobQueueBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        configure(services, services.AddJobQueue());
        var host = new TestHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true }));
        foreach (var hosted in host._hosted)
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        return host;
    }

    /// <summary>Stops the hosted services; <paramref name="shutdownTimeout"/> plays the host's shutdown timeout.</summary>
    public async Task StopAsync(CancellationToken shutdownTimeout)
    {
        _stopped = true;
        foreach (var hosted in _hosted.Reverse())
        {
            await hosted.StopAsync(shutdownTimeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await StopAsync(timeout.Token);
        }

        await _services.DisposeAsync();
    }
}
