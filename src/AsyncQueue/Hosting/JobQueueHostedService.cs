using AsyncQueue.Diagnostics;
using AsyncQueue.Engine;
using AsyncQueue.Monitoring;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Hosting;

/// <summary>Starts the workers with the host and stops them gracefully: no new jobs, running jobs finish, then their tokens are cancelled.</summary>
internal sealed class JobQueueHostedService(JobDispatcher dispatcher, JobQueueClient client, JobQueueMonitor monitor, JobQueueMetrics metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        dispatcher.Start();
        monitor.Observe(metrics);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        client.Stop();
        return dispatcher.StopAsync(cancellationToken);
    }
}
