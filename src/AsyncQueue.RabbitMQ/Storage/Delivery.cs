using RabbitMQ.Client;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// What the store attaches to a record it handed out (<c>JobRecord.StoreData</c>): the channel, delivery tag and ack
/// window to ack it through, the channel's incarnation (a tag is only valid on the channel instance that delivered it: after a reconnect
/// the broker has put the message back, so the attempt has lost its "lease"), and the message body as it came, so a
/// retry or dead letter republishes exactly what was enqueued.
/// </summary>
internal sealed record Delivery(IChannel Channel, ulong Tag, int Incarnation, QueueSubscription Subscription, AckWindow Window, ReadOnlyMemory<byte> Body);
