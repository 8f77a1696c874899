using System.Text.Json;

namespace AsyncQueue.RabbitMQ;

/// <summary>Settings of the RabbitMQ job store. Set them with <c>UseRabbitMq("amqp://guest:guest@localhost:5672", options => ...)</c>.</summary>
/// <remarks>Validated when the store starts; an invalid value fails the start with a message that names the property.</remarks>
public class RabbitMqStoreOptions
{
    /// <summary>Gets or sets the broker's AMQP URI, with its credentials and virtual host, for example <c>amqp://app:secret@rabbit:5672/jobs</c>.</summary>
    /// <value>Set by <c>UseRabbitMq</c>. It must be an absolute <c>amqp://</c> or <c>amqps://</c> URI.</value>
    public string Uri { get; set; } = "";

    /// <summary>
    /// Gets the other nodes of a RabbitMQ cluster, as <c>host:port</c> (for example <c>rabbit-2:5672</c>; the port may
    /// be left out for the scheme's default, 5672 or 5671), tried besides the node that <see cref="Uri"/> names. The
    /// user, password, virtual host and TLS (<c>amqps://</c>) are those of <see cref="Uri"/>. The client connects to
    /// one of these nodes, in an order of its choosing, and when that node is lost it reconnects to another one that
    /// answers, resuming the consumers there; with quorum queues, a confirmed job survives the loss of a minority of
    /// the nodes.
    /// </summary>
    /// <value>The default value is empty: only the node that <see cref="Uri"/> names.</value>
    /// <remarks>Validated at start: each entry must be a host name or address, with an optional port from 1 to 65535.</remarks>
    public IList<string> Endpoints { get; } = [];

    /// <summary>
    /// Gets or sets a value indicating whether the store declares each job queue at start, as a durable quorum queue
    /// named after the queue. Set it to <see langword="false"/> when the queues are declared elsewhere (by operations,
    /// with policies of their own): the store then only checks at start that each one exists. The store always declares
    /// its own retry-delay queues and the dead-letter queues, since their arguments are how it works.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool DeclareTopology { get; set; } = true;

    /// <summary>Gets or sets how long the store waits for the broker at start before it fails the start.</summary>
    /// <value>The default value is 10 seconds. Range: 100 milliseconds to 5 minutes.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many deliveries of a queue the broker may hand this process ahead of its acks (the AMQP
    /// prefetch of the queue's consumer). Deliveries beyond the running ones wait in this process for a free worker, so
    /// the workers do not sit idle while each ack travels to the broker and the next message comes back; the store also
    /// acks several settled deliveries at once. A queue's prefetch is never below its <see cref="QueueOptions.MaxConcurrency"/>.
    /// </summary>
    /// <value>The default value is 100. Range: 1 to 65,535; 1 gives a prefetch of exactly <see cref="QueueOptions.MaxConcurrency"/>.</value>
    /// <remarks>
    /// <para>
    /// Jobs taken ahead count as waiting in this process's <c>CountAsync</c>, and no other process can run them until
    /// they are settled or handed back. Stopping the store hands back the ones no worker started, unchanged and with no
    /// attempt charged. If the process dies or loses its connection instead, the broker delivers them again with their
    /// <c>x-delivery-count</c> raised, and the store counts each such delivery as a crashed attempt, as it cannot tell a
    /// job that ran from one that waited: each crash can so charge up to this many jobs an attempt they never ran.
    /// </para>
    /// </remarks>
    public int PrefetchCount { get; set; } = 100;

    /// <summary>
    /// Gets or sets the System.Text.Json options that job payloads are written and read with. Payloads are read only
    /// into the type registered for their kind, never into a type the message names.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    /// <remarks>Changing them after jobs were published may make old payloads unreadable; such jobs are dead-lettered with the reason.</remarks>
    public JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>Gets the fan-out subscriptions added with <see cref="Subscribe"/>.</summary>
    internal List<(string Exchange, string Queue, string Kind)> Subscriptions { get; } = [];

    /// <summary>
    /// Subscribes a queue to a fan-out exchange: every event published once to <paramref name="exchange"/> (with
    /// <see cref="IRabbitMqEventPublisher"/>) reaches each queue subscribed to it, and runs there as that queue's job of
    /// <paramref name="kind"/>, with the queue's own handler, retries and dead-letter queue. The store declares the
    /// durable fanout exchange and binds the queue to it at start.
    /// </summary>
    /// <param name="exchange">The exchange's name, for example <c>order-placed</c>.</param>
    /// <param name="queue">A queue of this job queue (one with a handler registered on it).</param>
    /// <param name="kind">
    /// The kind the event is read as in this queue: that of a job type registered with a handler (the type's name, or
    /// its <see cref="JobKindAttribute"/>). The event's JSON is read into that type, so its properties must match the event's.
    /// </param>
    /// <returns>These options, for chaining.</returns>
    /// <remarks>Checked at start: an unknown queue or kind fails the start, naming it.</remarks>
    public RabbitMqStoreOptions Subscribe(string exchange, string queue, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(exchange);
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        Subscriptions.Add((exchange, queue, kind));
        return this;
    }
}
