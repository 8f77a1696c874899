using AsyncQueue.Storage;
using RabbitMQ.Client.Exceptions;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// Settling a delivery: ack it, after any message that carries the job on (a retry, a dead letter) was confirmed. A
/// crash between the confirm and the ack leaves both: the job may run again (or be dead-lettered twice), never lost.
/// </summary>
internal sealed partial class RabbitMqJobStore
{
    public ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken) =>
        ValueTask.FromResult(HoldsDelivery(job, out _));

    public async ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken) =>
        await AckAsync(job, "complete", cancellationToken).ConfigureAwait(false);

    public async ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken) =>
        await AckAsync(job, "cancel", cancellationToken).ConfigureAwait(false);

    public async ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken) =>
        await RepublishAndAckAsync(job, null, runAt, cancellationToken).ConfigureAwait(false);

    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        await EnsureDeadLetterQueueAsync(target, cancellationToken).ConfigureAwait(false);
        await RepublishAndAckAsync(job, target.Name, null, cancellationToken).ConfigureAwait(false);
        return new DeadLetterEntry(job, target.Name, _time.GetUtcNow());
    }

    /// <summary>Publishes the delivery's body with the record's headers as they are now (confirmed), then acks the delivery.</summary>
    private async Task RepublishAndAckAsync(JobRecord job, string? deadLetterQueue, DateTimeOffset? runAt, CancellationToken cancellationToken)
    {
        var operation = deadLetterQueue is null ? "retry" : "dead-letter";
        if (!HoldsDelivery(job, out var delivery))
        {
            throw new JobLeaseLostException(job.Id, job.Attempt, operation);
        }

        await PublishAsync(job, delivery.Body, job.Queue, runAt, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        await AckAsync(job, operation, cancellationToken).ConfigureAwait(false);
    }

    private static async Task AckAsync(JobRecord job, string operation, CancellationToken cancellationToken)
    {
        if (!HoldsDelivery(job, out var delivery))
        {
            throw new JobLeaseLostException(job.Id, job.Attempt, operation);
        }

        try
        {
            await delivery.Channel.BasicAckAsync(delivery.Tag, multiple: false, cancellationToken).ConfigureAwait(false);
        }
        catch (AlreadyClosedException ex)
        {
            // The channel closed under the ack: the broker put the message back and will deliver it again.
            throw new JobLeaseLostException($"Attempt {job.Attempt} of job {job.Id} lost its delivery (the channel to RabbitMQ closed); the broker delivers it again, and its outcome ({operation}) was discarded.", ex);
        }
    }

    /// <summary>Whether the delivery is still this attempt's: its channel is the same incarnation, and open.</summary>
    private static bool HoldsDelivery(JobRecord job, out Delivery delivery)
    {
        delivery = job.StoreData as Delivery ?? throw new ArgumentException($"Job {job.Id} was not handed out by the RabbitMQ store.", nameof(job));
        return delivery.Subscription.Incarnation == delivery.Incarnation && delivery.Channel.IsOpen;
    }
}
