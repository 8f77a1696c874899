using AsyncQueue.RabbitMQ.Storage;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.RabbitMQ.DependencyInjection;

/// <summary>
/// Fails the host's start when the store cannot reach the broker, sign in or declare its queues. The store connects
/// on its own from the moment it is built (RabbitMQ.Client is asynchronous only, and a constructor cannot wait); this
/// waits for that start to end, so the error surfaces at start, once, instead of in every worker's fetch.
/// </summary>
internal sealed class RabbitMqStoreStartup(RabbitMqJobStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.WaitStartedAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
