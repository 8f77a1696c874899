using AsyncQueue.Storage;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// Settling a delivery: ack it, after any message that carries the job on (a retry, a dead letter) was confirmed. A
/// crash between the confirm and the ack leaves both: the job may run again (or be dead-lettered twice), never lost.
/// </summary>
internal sealed partial class RabbitMqJobStore
{
    public ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken) =>
        ValueTask.FromResult(HoldsDelivery(job, out _));

    // Synchronous: an ack is recorded here and written by the channel's flusher, so the dispatcher's hot path costs no await.
    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken) => Ack(job, "complete");

    public ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken) => Ack(job, "cancel");

    public async ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken) =>
        await RepublishAndAckAsync(job, null, runAt, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Dead-letters through the broker: the job, with every attempt's error in its headers, is published (confirmed) to
    /// the dead-letter queue's give-up queue and the delivery acked; the give-up queue's messages expire at once, and the
    /// broker's dead-letter exchange moves them, at least once, into the dead-letter queue. Then this waits, for a
    /// moment at most, until the dead-letter queue shows it, so a listing right after finds it.
    /// </summary>
    /// <remarks>
    /// Why not a reject (<c>basic.nack</c> without requeue) of the delivery itself: a rejected message keeps the headers
    /// it was published with, which hold the errors of the attempts before this one; the error of the attempt that
    /// failed for good would be lost. The give-up queue is a reject that carries it.
    /// </remarks>
    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(target);
        await EnsureDeadLetterRouteAsync(target, cancellationToken).ConfigureAwait(false);
        var before = await CountDeadLettersAsync(target.Name, cancellationToken).ConfigureAwait(false);
        await RepublishAndAckAsync(job, GiveUpQueueName(target.Name), null, cancellationToken).ConfigureAwait(false);
        await WaitForDeadLetterAsync(target, before, cancellationToken).ConfigureAwait(false);
        return new DeadLetterEntry(job, target.Name, _time.GetUtcNow());
    }

    /// <summary>
    /// Waits until the broker moved the give-up queue's messages on: the dead-letter queue holds more than it did, or
    /// (when it is full, so that it drops its oldest instead of growing) the give-up queue is empty. Bounded: the job is
    /// safe in the broker either way, and only a listing made at once could miss it.
    /// </summary>
    private async Task WaitForDeadLetterAsync(DeadLetterTarget target, long before, CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        for (var tries = 0; tries < 500; tries++)
        {
            var now = (await channel.QueueDeclarePassiveAsync(target.Name, cancellationToken).ConfigureAwait(false)).MessageCount;
            if (now > before || (now >= target.Capacity && (await channel.QueueDeclarePassiveAsync(GiveUpQueueName(target.Name), cancellationToken).ConfigureAwait(false)).MessageCount == 0))
            {
                return;
            }

            // Real time, not the store's clock: this waits for the broker, which a fake clock does not move.
            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes the delivery's body with the record's headers as they are now (confirmed), then acks the delivery.</summary>
    /// <param name="job">The fetched job.</param>
    /// <param name="deadLetterQueue">The queue to publish to as it is (the give-up queue of a dead letter, or the work queue of a job handed back); <see langword="null"/> for a retry at <paramref name="runAt"/>.</param>
    /// <param name="runAt">When the retry is due.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    private async Task RepublishAndAckAsync(JobRecord job, string? deadLetterQueue, DateTimeOffset? runAt, CancellationToken cancellationToken)
    {
        var operation = deadLetterQueue is null ? "retry" : "dead-letter";
        if (!HoldsDelivery(job, out var delivery))
        {
            throw new JobLeaseLostException(job.Id, job.Attempt, operation);
        }

        await PublishAsync(job, delivery.Body, job.Queue, runAt, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        await Ack(job, operation).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles the delivery: its ack goes out with the next coalesced ack of its channel (<see cref="AckWindow"/>),
    /// right after the settlements available now. Called only once the job's outcome is recorded (a retry's or dead
    /// letter's publish confirmed), so an ack never runs ahead of it.
    /// </summary>
    private static ValueTask Ack(JobRecord job, string operation)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!HoldsDelivery(job, out var delivery))
        {
            return ValueTask.FromException(new JobLeaseLostException(job.Id, job.Attempt, operation));
        }

        delivery.Window.Settle(delivery.Tag);
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the delivery is still this attempt's: its channel is the same incarnation, and open.</summary>
    private static bool HoldsDelivery(JobRecord job, out Delivery delivery)
    {
        delivery = job.StoreData as Delivery ?? throw new ArgumentException($"Job {job.Id} was not handed out by the RabbitMQ store.", nameof(job));
        return delivery.Subscription.Incarnation == delivery.Incarnation && delivery.Channel.IsOpen;
    }
}
