using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>A dead letter reaches the dead-letter queue it was sent to, and no other, whatever else its work queue dead-lettered into before.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class DeadLetterRoutingTests(RabbitMqServer server)
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task DeadLetter_OneWorkQueueIntoTwoDeadLetterQueues_EachJobOnlyInItsOwn()
    {
        var queue = RabbitMqServer.NewQueue();
        await using var process = RabbitMqProcess.Build(server.Uri, queue);
        var store = process.GetRequiredService<IJobStore>();
        var consumer = store.OpenConsumer(queue);
        var before = new DeadLetterTarget(queue + "-failed-before", TimeSpan.FromDays(1), 10);
        var after = new DeadLetterTarget(queue + "-failed-after", TimeSpan.FromDays(1), 10);
        await store.EnqueueBatchAsync([RabbitMqProcess.NewJob(queue, 1), RabbitMqProcess.NewJob(queue, 2), RabbitMqProcess.NewJob(queue, 3)], CancellationToken.None);

        // As across a deploy that changed the queue's DeadLetterQueue: the first dead letter into one, the next into the other.
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.DeadLetterAsync(first, before, CancellationToken.None);
        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.DeadLetterAsync(second, after, CancellationToken.None);
        var third = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.DeadLetterAsync(third, after, CancellationToken.None);

        Assert.Equal([first.Id], (await store.DeadLetters.ListAsync(before.Name)).Select(e => e.JobId));
        Assert.Equal([second.Id, third.Id], (await store.DeadLetters.ListAsync(after.Name)).Select(e => e.JobId));
    }
}
