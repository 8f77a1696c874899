using JasperFx.CodeGeneration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine;
using Wolverine.RabbitMQ;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Wolverine on its RabbitMQ transport, configured for the same guarantees as AsyncQueue.RabbitMQ: every channel
/// created with publisher confirmations and their tracking (<c>ConfigureChannelCreation</c>; off by default), the
/// sending endpoint (a durable exchange bound to the queue) <c>SendInline</c> so a <c>PublishAsync</c> returns after the broker's confirm (the default buffered
/// mode returns before the message has left the process), a durable quorum queue (<c>UseQuorumQueues</c>,
/// <c>AutoProvision</c>), and the listener in native-ack mode (<c>ProcessInParallelWithNativeAcks</c>: each delivery
/// acked after its handler, as AsyncQueue does) with the same prefetch and parallelism. Wolverine has no batch publish:
/// a batch is its <c>PublishAsync</c> calls started together and awaited together.
/// </summary>
internal sealed class WolverineRabbitMqContender : IBatchContender
{
    private readonly IHost _host;
    private readonly AsyncServiceScope _scope;
    private IMessageBus? _bus;
    private bool _started;

    public WolverineRabbitMqContender(Uri amqp, string queue, int workers, ushort prefetch)
    {
        var builder = PeerHost.CreateBuilder(Completion);
        builder.Services.AddWolverine(options =>
        {
            options.ApplicationAssembly = typeof(WolverineNoOpHandler).Assembly;
            options.Discovery.DisableConventionalDiscovery().IncludeType(typeof(WolverineNoOpHandler));
            options.Durability.Mode = DurabilityMode.Solo;
            options.CodeGeneration.TypeLoadMode = TypeLoadMode.Dynamic;
            options.UseRuntimeCompilation();
            options.UseRabbitMq(amqp)
                .AutoProvision()
                .UseQuorumQueues()
                .ConfigureChannelCreation(channel =>
                {
                    channel.PublisherConfirmationsEnabled = true;
                    channel.PublisherConfirmationTrackingEnabled = true;
                });
            // Published through a durable exchange bound to the queue, as MassTransit does: an endpoint of its own, since
            // on the queue's endpoint the listener's NativeAck mode would override SendInline (Wolverine warns so).
            options.PublishMessage<Job>().ToRabbitExchange(queue + "-exchange", exchange => exchange.BindQueue(queue, queue)).SendInline();
            options.ListenToRabbitQueue(queue)
                .PreFetchCount(prefetch)
                .ProcessInParallelWithNativeAcks()
                .MaximumParallelMessages(workers);
        });
        _host = builder.Build();
        _scope = _host.Services.CreateAsyncScope();
    }

    public string Label => "WolverineFx.RabbitMQ 6.64.2";

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
        _bus = _scope.ServiceProvider.GetRequiredService<IMessageBus>();
    }

    public ValueTask EnqueueAsync(Job job) => _bus!.PublishAsync(job);

    public Task EnqueueBatchAsync(IReadOnlyList<Job> jobs) => Task.WhenAll(jobs.Select(job => _bus!.PublishAsync(job).AsTask()));

    public async ValueTask DisposeAsync()
    {
        await _scope.DisposeAsync();
        await PeerHost.StopAsync(_host, _started);
    }
}
