using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>The store connects in the background from its constructor; a call made before the connection is open waits for it.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class EnqueueBeforeStartTests(RabbitMqServer server)
{
    [Fact]
    public async Task EnqueueBatch_DelayedJobAsFirstCall_WaitsForTheStartAndAcceptsIt()
    {
        var queue = RabbitMqServer.NewQueue();
        await using var process = RabbitMqProcess.Build(server.Uri, queue);
        var store = process.GetRequiredService<IJobStore>();

        // The process's first call, made while the store still connects: declaring the delay queue needs the connection.
        var results = await store.EnqueueBatchAsync(
            [RabbitMqProcess.NewJob(queue, 1), RabbitMqProcess.NewJob(queue, 2, notBefore: TimeProvider.System.GetUtcNow().AddMinutes(5))],
            CancellationToken.None);

        Assert.All(results, result => Assert.Equal(EnqueueStatus.Accepted, result.Status));
        var counts = await store.CountAsync(queue, CancellationToken.None);
        Assert.Equal((1L, 1L), (counts.Waiting, counts.Scheduled));
    }
}
