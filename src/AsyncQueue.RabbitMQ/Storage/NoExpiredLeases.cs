using AsyncQueue.Storage;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// The expired-lease consumer of a broker: it never hands anything out. RabbitMQ itself puts back the unacked messages
/// of a connection that died and redelivers them (with <c>x-delivery-count</c>), so there is nothing to rescue.
/// </summary>
internal sealed class NoExpiredLeases : IJobConsumer
{
    public async ValueTask<JobRecord> FetchAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        throw new OperationCanceledException(cancellationToken);
    }
}
