using RabbitMQ.Client;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// What the store attaches to a record it handed out (<c>JobRecord.StoreData</c>): the channel and delivery tag to ack
/// it on, the channel's incarnation (a tag is only valid on the channel instance that delivered it: after a reconnect
/// the broker has put the message back, so the attempt has lost its "lease"), and the message body as it came, so a
/// retry or dead letter republishes exactly what was enqueued.
/// </summary>
internal sealed record Delivery(IChannel Channel, ulong Tag, int Incarnation, QueueSubscription Subscription, ReadOnlyMemory<byte> Body);
