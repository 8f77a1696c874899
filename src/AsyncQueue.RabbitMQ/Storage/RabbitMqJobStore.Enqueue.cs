using AsyncQueue.RabbitMQ.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using RabbitMQ.Client.Events;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>Enqueue (confirmed publishes), and the reading of a delivery into the record a worker gets.</summary>
internal sealed partial class RabbitMqJobStore
{
    public async ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        CheckEnqueue(job);
        await PublishAsync(job, _payloads.SerializeToUtf8(job), job.Queue, job.NotBefore, null, cancellationToken).ConfigureAwait(false);
        return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        JobBatch.QueueOf(jobs);
        foreach (var job in jobs)
        {
            CheckEnqueue(job);
        }

        // Straight to UTF-8, all before the first publish: a job that cannot be serialized fails the batch with none sent.
        var payloads = new byte[jobs.Count][];
        for (var i = 0; i < jobs.Count; i++)
        {
            payloads[i] = _payloads.SerializeToUtf8(jobs[i]);
        }

        // The publisher first: it waits for the start, which the delay queues' declarations below need too.
        var publisher = await PublisherAsync(cancellationToken).ConfigureAwait(false);

        // Pipelined: every publish is sent before the first confirm is awaited (the client tracks each one), so a batch
        // costs about one round trip, not one per job. Sent in order on one channel, they reach the queue in order.
        // The delay queues are declared first and nothing is awaited between two publishes, so none overtakes another.
        // A job with no NotBefore goes to the work queue: only delayed ones need their route worked out.
        var routes = new string[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            routes[i] = jobs[i].NotBefore is null ? jobs[i].Queue : await RouteAsync(jobs[i].Queue, jobs[i].NotBefore, null, cancellationToken).ConfigureAwait(false);
        }

        var publishes = new Task[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            publishes[i] = publisher.BasicPublishAsync("", routes[i], mandatory: true, MessageHeaders.For(jobs[i]), payloads[i], cancellationToken).AsTask();
        }

        await Task.WhenAll(publishes).ConfigureAwait(false);
        return [.. jobs.Select(job => new EnqueueResult(job.Id, EnqueueStatus.Accepted))];
    }

    private void CheckEnqueue(JobRecord job)
    {
        CheckQueue(job.Queue);
        if (job.IdempotencyKey is not null)
        {
            // A broker has no index to refuse a duplicate with; accepting the key and ignoring it would be a lie.
            throw new NotSupportedException(
                $"Job {job.Id} of queue '{job.Queue}' has an idempotency key, but the RabbitMQ store cannot keep idempotency keys (a broker has no index of the messages it holds). Enqueue it without EnqueueOptions.IdempotencyKey, or put this queue on a store that keeps keys (PostgreSQL, Redis, SQLite).");
        }
    }

    /// <summary>
    /// Publishes a job's message and returns once the broker confirmed it: to <paramref name="deadLetterQueue"/>, or to
    /// the retry-delay queue for <paramref name="runAt"/>, or straight to the work queue when it is due.
    /// </summary>
    private async Task PublishAsync(JobRecord job, ReadOnlyMemory<byte> body, string queue, DateTimeOffset? runAt, string? deadLetterQueue, CancellationToken cancellationToken)
    {
        var publisher = await PublisherAsync(cancellationToken).ConfigureAwait(false);
        var routingKey = await RouteAsync(queue, runAt, deadLetterQueue, cancellationToken).ConfigureAwait(false);

        // Mandatory: a message no queue takes (a queue deleted under the store) comes back as an exception, never a silent drop.
        var properties = MessageHeaders.For(job, deadLetterQueue is null ? null : _time.GetUtcNow());
        await publisher.BasicPublishAsync("", routingKey, mandatory: true, properties, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The queue a message goes to: the dead-letter queue, the retry-delay queue of its time (declared on first use), or the work queue when it is due.</summary>
    private async ValueTask<string> RouteAsync(string queue, DateTimeOffset? runAt, string? deadLetterQueue, CancellationToken cancellationToken)
    {
        if (deadLetterQueue is not null)
        {
            return deadLetterQueue;
        }

        if (runAt is { } at && DelayLadder.RoundUp(at - _time.GetUtcNow()) is var ttl and > 0)
        {
            await EnsureDelayQueueAsync(queue, ttl, cancellationToken).ConfigureAwait(false);
            return DelayQueueName(queue, ttl);
        }

        return queue;
    }

    /// <summary>
    /// Makes a delivery into the record a worker runs. Its attempt is the stored one plus one, plus every earlier
    /// delivery of this message that ended without a settle (the broker's <c>x-delivery-count</c> on a quorum queue):
    /// the attempt of a process that crashed or was killed is counted, with an error that says so.
    /// </summary>
    private JobRecord Decode(BasicDeliverEventArgs delivery, QueueSubscription subscription, AckWindow window)
    {
        var properties = delivery.BasicProperties;
        var body = delivery.Body.ToArray();
        var now = _time.GetUtcNow();
        var kind = KindOf(properties, subscription.Queue);
        var id = JobId.TryParse(properties.MessageId, out var parsed) ? parsed : JobId.NewId();
        var enqueuedAt = MessageHeaders.GetInt64(properties, MessageHeaders.EnqueuedAt) is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : now;
        var job = new JobRecord(id, kind, subscription.Queue, _payloads.Read(kind, body.AsSpan()), enqueuedAt)
        {
            MaxAttempts = (int?)MessageHeaders.GetInt64(properties, MessageHeaders.MaxAttempts),
            TraceParent = MessageHeaders.GetString(properties, MessageHeaders.TraceParent),
            TraceState = MessageHeaders.GetString(properties, MessageHeaders.TraceState),
        };
        foreach (var error in JobPayloads.DeserializeErrors(MessageHeaders.GetString(properties, MessageHeaders.Errors)))
        {
            job.AddError(error);
        }

        var stored = (int)(MessageHeaders.GetInt64(properties, MessageHeaders.Attempt) ?? 0);
        var crashed = MessageHeaders.GetInt64(properties, MessageHeaders.DeliveryCount) ?? (delivery.Redelivered ? 1 : 0);
        for (var i = 1; i <= crashed; i++)
        {
            job.AddError(new JobError(
                stored + i,
                now,
                typeof(JobLeaseExpiredException).FullName!,
                "The process that held this delivery lost its connection to RabbitMQ (it crashed, was killed or was cut off) before it settled the job, so the broker delivered it again. The attempt may not have started: a job that was taken ahead (prefetched) and not yet started is counted too.",
                null));
        }

        if (crashed > 0)
        {
            RabbitMqLog.Redelivered(_logger, id, kind, subscription.Queue, crashed);
        }

        job.Attempt = stored + (int)crashed + 1;
        job.StoreData = new Delivery(subscription.Channel!, delivery.DeliveryTag, subscription.Incarnation, subscription, window, body);
        return job;
    }
}
