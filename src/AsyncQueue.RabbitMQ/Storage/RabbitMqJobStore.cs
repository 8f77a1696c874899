using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using AsyncQueue.RabbitMQ.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// The RabbitMQ store: each queue is a durable quorum queue of persistent messages; it keeps facts and applies the
/// dispatcher's decisions, and holds no retry or dead-letter policy.
/// </summary>
/// <remarks>
/// <para>
/// Every publish goes through one channel with publisher confirmations tracked by the client, so a publish returns
/// only once the broker confirmed it, and a nack, an unroutable message or a lost channel throws. A delivery is the
/// attempt's lease: it stays unacked until the dispatcher settles the job, and if this process dies the broker puts it
/// back and redelivers it with <c>x-delivery-count</c>, which the store counts as the crashed attempt.
/// </para>
/// <para>
/// The partial files: .Topology (connect, declare), .Enqueue, .Settle (complete, retry, dead-letter),
/// .DeadLetters (the dead-letter queues, read by get-and-requeue), .FanOut (events published once to every subscribed queue), .Unsupported (what a broker cannot do).
/// </para>
/// </remarks>
[RequiresUnreferencedCode(RabbitMqJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(RabbitMqJobQueueBuilderExtensions.SerializationMessage)]
internal sealed partial class RabbitMqJobStore : IJobStore, IAsyncDisposable
{
    private readonly RabbitMqStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JobPayloads _payloads;
    private readonly IJobKindRegistry _kinds;
    private readonly IOptionsMonitor<QueueOptions> _queueOptions;
    private readonly IReadOnlyList<string> _queueNames;
    private readonly FrozenSet<string> _queueSet;
    private readonly Task _started;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>
    /// Each queue's one subscription, started by the first consumer opened on it. Lazy, not a
    /// <c>ConcurrentDictionary.GetOrAdd</c> factory: workers open their consumers at the same moment, a factory may run
    /// for each of them, and every extra subscription would take a prefetch of jobs that no worker reads.
    /// </summary>
    private readonly FrozenDictionary<string, Lazy<Task<QueueSubscription>>> _subscriptions;
    private IConnection? _connection;
    private IChannel? _publisher;
    private int _disposed;

    public RabbitMqJobStore(
        IOptions<RabbitMqStoreOptions> options,
        IJobKindRegistry kinds,
        IOptionsMonitor<QueueOptions> queueOptions,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentNullException.ThrowIfNull(queueOptions);

        // Reading the options validates them: a bad setting fails the start, naming the property.
        _options = options.Value;
        _time = time;
        _queueOptions = queueOptions;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue.RabbitMQ");
        _kinds = kinds;
        _payloads = new JobPayloads(kinds, _options.SerializerOptions, "RabbitMQ");
        _queueNames = kinds.QueueNames;
        _queueSet = _queueNames.ToFrozenSet(StringComparer.Ordinal);
        _subscriptions = _queueNames.ToFrozenDictionary(name => name, name => new Lazy<Task<QueueSubscription>>(() => Task.Run(() => SubscribeAsync(name))), StringComparer.Ordinal);

        // RabbitMQ.Client is asynchronous only: the start runs from here, every operation waits for it, and
        // RabbitMqStoreStartup fails the host's start with its error.
        _started = Task.Run(() => StartAsync(_stopping.Token));
    }

    /// <summary>
    /// Durable: an accepted job is a persistent message in a quorum queue, and it survives this process. The broker's
    /// delivery is the lease, so no <see cref="JobStoreCapabilities.ExpiringLeases"/>: no expiry to report
    /// (<see cref="JobRecord.LeaseExpiresAt"/> stays unset), the expired-lease consumer never hands anything out, and a
    /// crash's deliveries come back through <see cref="OpenConsumer"/> with the crashed attempt counted (see Decode). Without <see cref="JobStoreCapabilities.IdempotencyKeys"/> (a
    /// keyed enqueue is refused) and <see cref="JobStoreCapabilities.InjectedClock"/>: a delay is read off the store's
    /// clock when the job is scheduled, and then held by the broker's TTLs, as is a dead-letter queue's retention.
    /// Nor <see cref="JobStoreCapabilities.JobStatus"/>, <see cref="JobStoreCapabilities.Pause"/> and
    /// <see cref="JobStoreCapabilities.Priorities"/>: see <c>RabbitMqJobStore.Unsupported.cs</c>.
    /// </summary>
    public JobStoreCapabilities Capabilities => JobStoreCapabilities.Durable;

    public IDeadLetterQueue DeadLetters => _deadLetters ??= new RabbitMqDeadLetters(this);

    /// <summary>Waits until the store connected and declared its queues; throws what stopped it.</summary>
    public Task WaitStartedAsync(CancellationToken cancellationToken) => _started.WaitAsync(cancellationToken);

    public IJobConsumer OpenConsumer(string queue)
    {
        CheckQueue(queue);
        return new RabbitMqConsumer(_subscriptions[queue].Value);
    }

    public IJobConsumer OpenExpiredLeaseConsumer() => new NoExpiredLeases();

    public async ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken)
    {
        CheckQueue(queue);
        await _started.WaitAsync(cancellationToken).ConfigureAwait(false);

        // A channel of its own: a count of a queue deleted under the store is a channel error, which must not close the publisher.
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        var waiting = (long)await channel.MessageCountAsync(queue, cancellationToken).ConfigureAwait(false);

        // Plus the deliveries this process's consumer took ahead (its prefetch) that no worker has yet: the broker counts
        // them as unacked, not ready, but they wait all the same. Read after the broker's count, so a delivery on its way
        // in between is counted once it arrived; those other processes took ahead are not known here.
        if (_subscriptions[queue] is { IsValueCreated: true, Value: { IsCompletedSuccessfully: true } subscribing })
        {
            waiting += subscribing.Result.Ready.Reader.Count;
        }

        // Scheduled: the delay queues this process has used (those of other processes' delays are not known here).
        long scheduled = 0;
        foreach (var key in _delayQueues.Keys.Where(k => k.Queue == queue))
        {
            scheduled += await channel.MessageCountAsync(DelayQueueName(key.Queue, key.Milliseconds), cancellationToken).ConfigureAwait(false);
        }

        // Unacked deliveries are not visible over AMQP: the running count is the dispatcher's.
        return new QueueCounts(waiting, scheduled, Running: null);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        var released = 0;
        foreach (var subscription in _subscriptions.Values.Where(s => s.IsValueCreated && s.Value.IsCompletedSuccessfully).Select(s => s.Value.Result))
        {
            // Stop deliveries, then hand back what no worker took with no attempt spent: republished as it came and
            // acked, since a message put back by a closing channel would come back with its delivery count raised,
            // as if its attempt had crashed.
            try
            {
                await subscription.StopAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A consumer that cannot be cancelled ends with its connection, below.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RabbitMqLog.OperationFailed(_logger, ex, "stop consuming", subscription.Queue);
            }

            while (subscription.Ready.Reader.TryRead(out var job))
            {
                try
                {
                    job.Attempt--;
                    await RepublishAndAckAsync(job, job.Queue, null, CancellationToken.None).ConfigureAwait(false);
                    released++;
                }
#pragma warning disable CA1031 // A job not handed back is redelivered by the broker when the channel closes: never lost.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    RabbitMqLog.OperationFailed(_logger, ex, "hand back a job no worker started", job.Queue);
                }
            }

            // The acks go out before the connection closes: an ack lost with it would bring back, as a crashed attempt,
            // a job that ran (or one just handed back, twice).
            await subscription.Window.DrainAsync().ConfigureAwait(false);
        }

        RabbitMqLog.Closed(_logger, released);
        if (_connection is { } connection)
        {
            await connection.CloseAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>
    /// For tests: ends this process's connection as its death would, with no close handshake, no recovery and nothing
    /// handed back, so the broker puts back every delivery the process held (the conformance kit's crash).
    /// </summary>
    internal async Task AbortAsync()
    {
        await _started.ConfigureAwait(false);
        await _connection!.AbortAsync().ConfigureAwait(false);
    }

    private void CheckQueue(string queue)
    {
        if (!_queueSet.Contains(queue))
        {
            throw new ArgumentException($"Queue '{queue}' is not configured; the RabbitMQ store serves the queues registered with AddHandler: {string.Join(", ", _queueNames)}.", nameof(queue));
        }
    }

    private async Task<IChannel> PublisherAsync(CancellationToken cancellationToken)
    {
        await _started.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _publisher!;
    }

    private async Task<QueueSubscription> SubscribeAsync(string queue)
    {
        await _started.ConfigureAwait(false);
        var prefetch = (ushort)Math.Clamp(Math.Max(_options.PrefetchCount, _queueOptions.Get(queue).MaxConcurrency), 1, ushort.MaxValue);
        var subscription = new QueueSubscription(queue, prefetch, Decode, _logger);
        await subscription.StartAsync(_connection!, _stopping.Token).ConfigureAwait(false);
        return subscription;
    }
}
