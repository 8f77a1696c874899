using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// The broker's ceiling, not a peer: RabbitMQ.Client 7 by hand, with nothing of AsyncQueue, moving one job per message
/// with the guarantees the three libraries are given, and nothing more. It exists to tell how much of the gap to the
/// issue's 2x target is in a library's client and how much is the broker's own cost per message: what it reaches is
/// about the most any client of one message per job can reach on this broker and machine.
/// </summary>
/// <remarks>
/// A durable quorum queue of its own; persistent messages with the job's JSON as body and no properties or headers
/// beyond persistence (the client's confirm tracking adds its <c>x-dotnet-pub-seq-no</c>, as for AsyncQueue.RabbitMQ);
/// one publisher channel with publisher confirmations tracked by the client, <c>mandatory</c> as AsyncQueue.RabbitMQ
/// publishes (a single enqueue returns after its confirm; a batch sends every publish, then awaits their confirms
/// together). One consumer with the run's prefetch, the client's dispatcher running 2 no-op handlers at once
/// (<c>consumerDispatchConcurrency</c>), each delivery acked after its handler, the acks coalesced into <c>multiple</c>
/// acks by one flusher on the thread pool as AsyncQueue.RabbitMQ's <c>AckWindow</c> does. Simpler than <c>AckWindow</c>
/// in one way only: a no-op handler never fails nor holds a delivery, so a delivery settled behind another waits for
/// it instead of being acked alone.
/// </remarks>
internal sealed class BareRabbitMqContender(Uri amqp, string queue, int workers, ushort prefetch) : IBatchContender
{
    private readonly Lock _gate = new();

    /// <summary>Settled deliveries above a gap (a delivery still in its handler): consumer tags are consecutive on the channel.</summary>
    private readonly HashSet<ulong> _settledAhead = [];
    private ulong _settledUpTo;
    private ulong _ackedUpTo;
    private bool _flushing;
    private IConnection? _connection;
    private IChannel? _publisher;
    private IChannel? _consumer;

    public string Label => "RabbitMQ.Client, bare";

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        _connection = await new ConnectionFactory { Uri = amqp, ClientProvidedName = "bare" }.CreateConnectionAsync();
        _publisher = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await _publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });

        _consumer = await _connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)workers));
        await _consumer.BasicQosAsync(0, prefetch, global: false);
        var consumer = new AsyncEventingBasicConsumer(_consumer);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            Completion.Signal(JsonSerializer.Deserialize<Job>(delivery.Body.Span)!);
            Settle(delivery.DeliveryTag);
            return Task.CompletedTask;
        };
        await _consumer.BasicConsumeAsync(queue, autoAck: false, consumer);
    }

    public ValueTask EnqueueAsync(Job job) => PublishAsync(job);

    public Task EnqueueBatchAsync(IReadOnlyList<Job> jobs)
    {
        var publishes = new Task[jobs.Count];
        for (var i = 0; i < publishes.Length; i++)
        {
            publishes[i] = PublishAsync(jobs[i]).AsTask();
        }

        return Task.WhenAll(publishes);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            await connection.CloseAsync();
            await connection.DisposeAsync();
        }
    }

    // Fresh properties per message: the client's confirm tracking writes its sequence number into their headers.
    private ValueTask PublishAsync(Job job) =>
        _publisher!.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { Persistent = true }, JsonSerializer.SerializeToUtf8Bytes(job));

    private void Settle(ulong tag)
    {
        lock (_gate)
        {
            if (tag != _settledUpTo + 1)
            {
                _settledAhead.Add(tag);
                return;
            }

            _settledUpTo = tag;
            while (_settledAhead.Remove(_settledUpTo + 1))
            {
                _settledUpTo++;
            }

            if (_flushing)
            {
                return;
            }

            _flushing = true;
        }

        // Off the handler, as AckWindow does: the ack goes out once the settlements of this moment are gathered.
        ThreadPool.UnsafeQueueUserWorkItem(static bare => _ = bare.FlushAsync(), this, preferLocal: false);
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            ulong upTo;
            lock (_gate)
            {
                if (_settledUpTo == _ackedUpTo)
                {
                    _flushing = false;
                    return;
                }

                upTo = _ackedUpTo = _settledUpTo;
            }

            await _consumer!.BasicAckAsync(upTo, multiple: true);
        }
    }
}
