using AsyncQueue.Storage;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>A worker's view of its queue's <see cref="QueueSubscription"/>: takes the next delivery, once the store has started.</summary>
internal sealed class RabbitMqConsumer(Task<QueueSubscription> subscription) : IJobConsumer
{
    public async ValueTask<JobRecord> FetchAsync(CancellationToken cancellationToken)
    {
        var ready = (await subscription.WaitAsync(cancellationToken).ConfigureAwait(false)).Ready.Reader;
        return await ready.ReadAsync(cancellationToken).ConfigureAwait(false);
    }
}
