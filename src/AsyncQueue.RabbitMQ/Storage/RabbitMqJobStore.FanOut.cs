using System.Text.Json;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using RabbitMQ.Client;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// Fan-out: one durable fanout exchange per event, bound to each subscribed queue. The event's message is marked with
/// its exchange; each queue reads its copy as the kind it subscribed with, and from then on the copy is an ordinary job
/// of that queue (a retry or dead letter republishes it under that kind, with no mark).
/// </summary>
internal sealed partial class RabbitMqJobStore : IRabbitMqEventPublisher
{
    /// <summary>The header that marks an event's message with the exchange it was published to.</summary>
    internal const string FanOutHeader = "aq-fan-out";

    public async ValueTask<JobId> PublishAsync<TEvent>(string exchange, TEvent message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exchange);
        ArgumentNullException.ThrowIfNull(message);
        if (!_options.Subscriptions.Any(s => s.Exchange == exchange))
        {
            throw new InvalidOperationException(
                $"No queue is subscribed to exchange '{exchange}': subscribe one with RabbitMqStoreOptions.Subscribe(\"{exchange}\", queue, kind). The exchanges are: {string.Join(", ", _options.Subscriptions.Select(s => "'" + s.Exchange + "'").Distinct(StringComparer.Ordinal))}.");
        }

        var publisher = await PublisherAsync(cancellationToken).ConfigureAwait(false);
        var id = JobId.NewId();
        var body = JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), _options.SerializerOptions ?? JsonSerializerOptions.Default);
        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = id.ToString(),
            Type = exchange,
            ContentType = "application/json",
            Headers = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                [MessageHeaders.EnqueuedAt] = _time.GetUtcNow().UtcTicks,
                [FanOutHeader] = exchange,
            },
        };

        // Mandatory: an exchange with no queue bound (deleted under the store) is an exception, never a silent drop.
        await publisher.BasicPublishAsync(exchange, "", mandatory: true, properties, body, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Checks every subscription against the registered queues and kinds, then declares its exchange and binding.</summary>
    private async Task DeclareFanOutsAsync(CancellationToken cancellationToken)
    {
        foreach (var (exchange, queue, kind) in _options.Subscriptions)
        {
            if (!_queueSet.Contains(queue))
            {
                throw new InvalidOperationException(
                    $"RabbitMqStoreOptions.Subscribe(\"{exchange}\", \"{queue}\", \"{kind}\"): queue '{queue}' is not a queue of this job queue (they are: {string.Join(", ", _queueNames)}). Register a handler on it first.");
            }

            if (!_kinds.TryGetJobType(kind, out _))
            {
                throw new InvalidOperationException(
                    $"RabbitMqStoreOptions.Subscribe(\"{exchange}\", \"{queue}\", \"{kind}\"): no handler is registered for kind '{kind}'. The kind is the job type's name, or its [JobKind] name.");
            }

            var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (channel.ConfigureAwait(false))
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
                await channel.QueueBindAsync(queue, exchange, "", cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The kind a message is read as in <paramref name="queue"/>: the subscribed kind for an event's copy, else the kind it carries.</summary>
    private string KindOf(IReadOnlyBasicProperties properties, string queue)
    {
        if (MessageHeaders.GetString(properties, FanOutHeader) is { } exchange)
        {
            foreach (var (e, q, kind) in _options.Subscriptions)
            {
                if (e == exchange && q == queue)
                {
                    return kind;
                }
            }
        }

        return string.IsNullOrEmpty(properties.Type) ? "(no kind)" : properties.Type;
    }
}
