using System.Threading.Channels;
using AsyncQueue.Storage;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// One queue's consumer on the broker, shared by the queue's workers in this process: one channel with a prefetch of
/// <c>RabbitMqStoreOptions.PrefetchCount</c> (at least the queue's <c>MaxConcurrency</c>), whose deliveries wait in
/// <see cref="Ready"/> for a worker's fetch, and whose acks go through the channel's <see cref="AckWindow"/>.
/// </summary>
internal sealed class QueueSubscription(string queue, ushort prefetch, Func<BasicDeliverEventArgs, QueueSubscription, AckWindow, JobRecord> decode, ILogger logger)
{
    private AckWindow? _window;
    private int _incarnation;
    private string? _consumerTag;

    public string Queue { get; } = queue;

    /// <summary>Gets the deliveries no worker has taken yet.</summary>
    public Channel<JobRecord> Ready { get; } = System.Threading.Channels.Channel.CreateUnbounded<JobRecord>(new UnboundedChannelOptions { SingleWriter = true });

    /// <summary>Gets the consuming channel, once started.</summary>
    public IChannel? Channel { get; private set; }

    /// <summary>
    /// Gets the channel's incarnation: it moves on each time the channel shuts down, so a delivery of an earlier
    /// incarnation (whose message the broker has put back) is known to be lost before its ack is tried.
    /// </summary>
    public int Incarnation => Volatile.Read(ref _incarnation);

    /// <summary>Gets the acks of the channel's current incarnation: a new window each time the channel shuts down.</summary>
    public AckWindow Window => Volatile.Read(ref _window)!;

    public async Task StartAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _window, new AckWindow(channel, Queue, logger));
        channel.ChannelShutdownAsync += (_, _) =>
        {
            // The broker put back every unacked delivery: the old window's acks are void, and the recovered channel's
            // deliveries (their tags carried on by the client) are acked through a fresh one.
            Interlocked.Increment(ref _incarnation);
            Interlocked.Exchange(ref _window, new AckWindow(channel, Queue, logger)).Close();
            return Task.CompletedTask;
        };

        await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken).ConfigureAwait(false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            // The body's memory is the client's and is reused once this returns: decode copies it. Deliveries of one
            // channel come here one at a time and in tag order, which the ack window relies on.
            // Recorded in the window before anything can fail, so that no later multiple ack covers it unsettled.
            var window = Window;
            window.Delivered(delivery.DeliveryTag);
            Ready.Writer.TryWrite(decode(delivery, this, window));
            return Task.CompletedTask;
        };

        Channel = channel;
        _consumerTag = await channel.BasicConsumeAsync(Queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops deliveries (the ones already here stay unacked, for the store to hand back) and completes <see cref="Ready"/>.</summary>
    public async Task StopAsync()
    {
        if (Channel is { IsOpen: true } channel && _consumerTag is { } tag)
        {
            await channel.BasicCancelAsync(tag, noWait: false).ConfigureAwait(false);
        }

        Ready.Writer.TryComplete();
    }
}
