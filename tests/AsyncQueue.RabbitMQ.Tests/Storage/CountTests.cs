using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>Counts of a queue whose consumer took jobs ahead (its prefetch): a job no worker has fetched is still waiting.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class CountTests(RabbitMqServer server)
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Count_JobsPrefetchedButNotFetched_CountAsWaiting()
    {
        var queue = RabbitMqServer.NewQueue();
        await using var process = RabbitMqProcess.Build(server.Uri, queue);
        var store = process.GetRequiredService<IJobStore>();
        await store.EnqueueBatchAsync([.. Enumerable.Range(0, 3).Select(i => RabbitMqProcess.NewJob(queue, i))], CancellationToken.None);

        // The queue's MaxConcurrency is 4: the consumer takes all three from the broker, and one worker fetches one.
        var fetched = await store.OpenConsumer(queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        // Polled: the other two deliveries may still be on their way from the broker to this process.
        await Poll.UntilAsync(async () => (await store.CountAsync(queue, CancellationToken.None)).Waiting == 2, "the two jobs no worker fetched count as waiting");
        await store.CompleteAsync(fetched, CancellationToken.None);
    }
}
