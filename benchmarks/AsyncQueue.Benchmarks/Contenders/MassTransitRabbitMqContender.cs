using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// MassTransit 8 on its RabbitMQ transport, configured for the same guarantees as AsyncQueue.RabbitMQ: publisher
/// confirmation on (a <c>Send</c> returns after the broker's confirm; MassTransit's default, set explicitly here), a
/// durable quorum receive queue (<c>SetQuorumQueue</c>) fed by MassTransit's durable exchange of the same name, persistent
/// messages (MassTransit's default), the consumer's ack after it returns, and the same prefetch and concurrency as
/// AsyncQueue. Single jobs go through a cached send endpoint to the queue's exchange (a <c>queue:</c> address would
/// redeclare the queue as a classic one and fail against the quorum queue); batches through <c>SendBatch</c>.
/// </summary>
internal sealed class MassTransitRabbitMqContender : IBatchContender
{
    private readonly Microsoft.Extensions.Hosting.IHost _host;
    private readonly string _queue;
    private ISendEndpoint? _endpoint;
    private bool _started;

    public MassTransitRabbitMqContender(Uri amqp, string queue, int workers, ushort prefetch)
    {
        _queue = queue;
        var builder = PeerHost.CreateBuilder(Completion);
        // The host's start returns once the bus and its receive endpoint are up (by default it returns at once): a send
        // before the endpoint bound its queue to the exchange is dropped, and the warm-up then waits for it forever.
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(options => options.WaitUntilStarted = true);
        builder.Services.AddMassTransit(bus =>
        {
            // No usage report to masstransit.io: this machine has no route out, and each attempt logs a warning.
            bus.DisableUsageTelemetry();
            bus.AddConsumer<MassTransitNoOpConsumer>();
            bus.UsingRabbitMq((context, transport) =>
            {
                transport.Host(new UriBuilder("rabbitmq", amqp.Host, amqp.Port, "/").Uri, host =>
                {
                    host.Username("guest");
                    host.Password("guest");
                    host.PublisherConfirmation = true;
                });
                transport.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.SetQuorumQueue();
                    endpoint.Durable = true;
                    endpoint.PrefetchCount = prefetch;
                    endpoint.ConcurrentMessageLimit = workers;
                    endpoint.ConfigureConsumeTopology = false;
                    endpoint.ConfigureConsumer<MassTransitNoOpConsumer>(context);
                });
            });
        });
        _host = builder.Build();
    }

    public string Label => "MassTransit.RabbitMQ 8.5.12";

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
        _endpoint = await _host.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri("exchange:" + _queue));
    }

    public ValueTask EnqueueAsync(Job job) => new(_endpoint!.Send(job));

    public Task EnqueueBatchAsync(IReadOnlyList<Job> jobs) => _endpoint!.SendBatch(jobs);

    public ValueTask DisposeAsync() => PeerHost.StopAsync(_host, _started);
}
