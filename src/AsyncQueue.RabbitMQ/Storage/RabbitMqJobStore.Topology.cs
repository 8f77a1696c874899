using System.Collections.Concurrent;
using System.Globalization;
using AsyncQueue.RabbitMQ.DependencyInjection;
using AsyncQueue.RabbitMQ.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>Start-up and topology: connect, open the confirming publisher, declare the dead-letter exchange and (or check) the work queues; declare retry-delay queues and dead-letter routes on first use.</summary>
internal sealed partial class RabbitMqJobStore
{
    private readonly ConcurrentDictionary<(string Queue, long Milliseconds), Task> _delayQueues = new();
    private readonly ConcurrentDictionary<string, Task> _deadLetterQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _deadLetterRoutes = new(StringComparer.Ordinal);

    /// <summary>The exchange the broker dead-letters failed jobs through (from each dead-letter queue's give-up queue).</summary>
    internal const string DeadLetterExchange = "asyncqueue.dead-letters";

    /// <summary>
    /// A dead-letter queue's give-up queue, for example <c>failed-emails.give-up</c>: a failed job passes through it into
    /// the broker's dead-letter exchange, and on to that dead-letter queue only. (One per dead-letter queue, not per work
    /// queue: a work queue whose jobs go to two dead-letter queues, as across a change of its <c>DeadLetterQueue</c>,
    /// must not put a copy in both.)
    /// </summary>
    internal static string GiveUpQueueName(string deadLetterQueue) => deadLetterQueue + ".give-up";

    /// <summary>A retry-delay queue's name: the work queue's, then the delay, for example <c>emails.delay.8000ms</c>.</summary>
    internal static string DelayQueueName(string queue, long milliseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{queue}.delay.{milliseconds}ms");

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(_options.Uri);
        var endpoints = Endpoints(uri);
        var setting = _options.Endpoints.Count == 0
            ? $"RabbitMqStoreOptions.Uri ('{RabbitMqStoreOptionsValidator.Redact(_options.Uri)}')"
            : $"RabbitMqStoreOptions.Uri ('{RabbitMqStoreOptionsValidator.Redact(_options.Uri)}') and RabbitMqStoreOptions.Endpoints";
        var endpoint = string.Join(", ", endpoints.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.HostName}:{e.Port}")));
        var factory = new ConnectionFactory
        {
            Uri = uri,
            ClientProvidedName = "AsyncQueue",
            RequestedConnectionTimeout = _options.ConnectTimeout,

            // After a broker restart or a network cut the client reconnects (to any of the endpoints that answers, in a
            // cluster) and resumes the consumers; deliveries of the lost channel are fenced out by QueueSubscription.Incarnation.
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
        };

        try
        {
            // The endpoint list (one entry without RabbitMqStoreOptions.Endpoints) is also what automatic recovery tries.
            _connection = await factory.CreateConnectionAsync(endpoints, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokerUnreachableException ex) when (Find<AuthenticationFailureException>(ex) is not null)
        {
            throw new InvalidOperationException(
                $"The RabbitMQ job store could not sign in to {endpoint}: the broker refused the user name or password of {setting}. {Find<AuthenticationFailureException>(ex)!.Message}", ex);
        }
        catch (BrokerUnreachableException ex)
        {
            throw new InvalidOperationException(
                $"The RabbitMQ job store could not connect to {endpoint} within {_options.ConnectTimeout} (RabbitMqStoreOptions.ConnectTimeout): check that RabbitMQ runs there and that {setting} names it. {(ex.InnerException ?? ex).Message}", ex);
        }

        _publisher = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken).ConfigureAwait(false);

        await DeclareDeadLetterExchangeAsync(cancellationToken).ConfigureAwait(false);
        foreach (var queue in _queueNames)
        {
            if (_options.DeclareTopology)
            {
                await DeclareAsync(queue, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CheckExistsAsync(queue, cancellationToken).ConfigureAwait(false);
            }
        }

        if (_options.DeclareTopology)
        {
            await DeclareFanOutsAsync(cancellationToken).ConfigureAwait(false);
        }

        var version = _connection.ServerProperties?.TryGetValue("version", out var v) == true && v is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : "unknown";
        RabbitMqLog.Connected(_logger, endpoint, version, string.Join(", ", _queueNames), _options.DeclareTopology ? "declared" : "checked (declared elsewhere)");
    }

    /// <summary>The node <see cref="RabbitMqStoreOptions.Uri"/> names, then those of <see cref="RabbitMqStoreOptions.Endpoints"/>, with the URI's TLS setting.</summary>
    private List<AmqpTcpEndpoint> Endpoints(Uri uri)
    {
        // A port of -1 is the scheme's default (5672, or 5671 with TLS). Each endpoint carries its own TLS setting: the
        // client reads it from the endpoint it connects to, not from the factory's Uri.
        var tls = uri.Scheme == "amqps";
        var endpoints = new List<AmqpTcpEndpoint> { new(uri.Host, uri.IsDefaultPort ? -1 : uri.Port, new SslOption(uri.Host, enabled: tls)) };
        foreach (var entry in _options.Endpoints)
        {
            // Validated at start; parsed again here rather than kept, since the options type holds only what users set.
            if (!RabbitMqStoreOptionsValidator.TryParseEndpoint(entry, out var host, out var port))
            {
                throw new InvalidOperationException($"RabbitMqStoreOptions.Endpoints holds '{entry}', which is not a host:port.");
            }

            endpoints.Add(new AmqpTcpEndpoint(host, port, new SslOption(host, enabled: tls)));
        }

        return endpoints;
    }

    /// <summary>Declares a durable queue on a channel of its own, since a refused declaration closes the channel it was sent on.</summary>
    private async Task DeclareAsync(string queue, Dictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        try
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            throw new InvalidOperationException(
                $"RabbitMQ refused to declare queue '{queue}' as the RabbitMQ job store needs it ({Describe(arguments)}): it exists with other arguments. Delete it, or declare it yourself and set RabbitMqStoreOptions.DeclareTopology to false. {ex.ShutdownReason.ReplyText}", ex);
        }
    }

    private async Task CheckExistsAsync(string queue, CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            throw new InvalidOperationException(
                $"Queue '{queue}' does not exist on the broker, and RabbitMqStoreOptions.DeclareTopology is false, so the RabbitMQ job store does not declare it: declare it (a durable quorum queue), or set DeclareTopology to true.", ex);
        }
    }

    /// <summary>
    /// The retry-delay queue of a work queue for one TTL: its messages expire after the TTL and are dead-lettered back to
    /// the work queue, at least once (a quorum queue with <c>dead-letter-strategy: at-least-once</c>, which needs
    /// <c>overflow: reject-publish</c>), so a broker crash while a retry waits loses nothing.
    /// </summary>
    private Task EnsureDelayQueueAsync(string queue, long milliseconds, CancellationToken cancellationToken) =>
        AwaitOrForget(_delayQueues, (queue, milliseconds), key => DeclareAsync(DelayQueueName(key.Item1, key.Item2), new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-message-ttl"] = key.Item2,
            ["x-dead-letter-exchange"] = "",
            ["x-dead-letter-routing-key"] = key.Item1,
            ["x-dead-letter-strategy"] = "at-least-once",
            ["x-overflow"] = "reject-publish",
        }, _stopping.Token), cancellationToken);

    /// <summary>
    /// The route of failed jobs into a dead-letter queue through the broker's dead-letter exchange, set up on its first dead
    /// letter: the dead-letter queue (declared with the dispatcher's capacity and retention if it is missing), bound to
    /// <see cref="DeadLetterExchange"/> under its own name, and its give-up queue, whose messages expire at once
    /// (<c>x-message-ttl</c> 0) and are dead-lettered by the broker, at least once, along that binding.
    /// </summary>
    /// <remarks>
    /// The dead-letter queue is a durable <b>classic</b> queue, not a quorum queue: dead letters are listed by browsing
    /// (get, then put back), and a classic queue puts a returned message back in its place, where RabbitMQ 3.10's quorum
    /// queue moves it behind the others, so a listing would reorder the queue. The cost: in a cluster, a classic queue
    /// lives on one node. One that exists already is used as it is.
    /// </remarks>
    private Task EnsureDeadLetterRouteAsync(AsyncQueue.Storage.DeadLetterTarget target, CancellationToken cancellationToken) =>
        AwaitOrForget(_deadLetterRoutes, target.Name, async deadLetterQueue =>
        {
            await AwaitOrForget(_deadLetterQueues, deadLetterQueue, async name =>
            {
                try
                {
                    await CheckExistsAsync(name, _stopping.Token).ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    await DeclareAsync(name, new Dictionary<string, object?>
                    {
                        ["x-queue-type"] = "classic",
                        ["x-max-length"] = target.Capacity,
                        ["x-overflow"] = "drop-head",
                        ["x-message-ttl"] = (long)Math.Min(target.Retention.TotalMilliseconds, uint.MaxValue),
                    }, _stopping.Token).ConfigureAwait(false);
                }
            }, _stopping.Token).ConfigureAwait(false);

            var channel = await _connection!.CreateChannelAsync(cancellationToken: _stopping.Token).ConfigureAwait(false);
            await using (channel.ConfigureAwait(false))
            {
                await channel.QueueBindAsync(deadLetterQueue, DeadLetterExchange, deadLetterQueue, cancellationToken: _stopping.Token).ConfigureAwait(false);
            }

            await DeclareAsync(GiveUpQueueName(deadLetterQueue), new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-message-ttl"] = 0,
                ["x-dead-letter-exchange"] = DeadLetterExchange,
                ["x-dead-letter-routing-key"] = deadLetterQueue,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            }, _stopping.Token).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Declares the store's dead-letter exchange: direct and durable; each dead-letter queue is bound to it under its own name.</summary>
    private async Task DeclareDeadLetterExchangeAsync(CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a declaration once per key; a failed one is forgotten, so the next use tries again.</summary>
    private static async Task AwaitOrForget<TKey>(ConcurrentDictionary<TKey, Task> done, TKey key, Func<TKey, Task> declare, CancellationToken cancellationToken)
        where TKey : notnull
    {
        var task = done.GetOrAdd(key, declare);
        try
        {
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (task.IsFaulted)
        {
            done.TryRemove(new KeyValuePair<TKey, Task>(key, task));
            throw;
        }
    }

    private static string Describe(Dictionary<string, object?> arguments) =>
        string.Join(", ", arguments.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key}={a.Value}")));

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }
}
