using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// MassTransit 8 in-memory transport: one receive endpoint with a consumer, concurrency N, messages sent to it
/// through a cached send endpoint (cheaper than <c>Publish</c>).
/// </summary>
internal sealed class MassTransitContender : IContender
{
    private const string QueueName = "noop";
    private readonly IHost _host;
    private ISendEndpoint? _endpoint;
    private bool _started;

    public MassTransitContender(int workers)
    {
        var builder = PeerHost.CreateBuilder(Completion);
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddConsumer<MassTransitNoOpConsumer>();
            bus.UsingInMemory((context, transport) =>
            {
                transport.ReceiveEndpoint(QueueName, endpoint =>
                {
                    endpoint.ConcurrentMessageLimit = workers;
                    endpoint.ConfigureConsumer<MassTransitNoOpConsumer>(context);
                });
            });
        });
        _host = builder.Build();
    }

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
        _endpoint = await _host.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri("queue:" + QueueName));
    }

    public ValueTask EnqueueAsync(Job job) => new(_endpoint!.Send(job));

    public ValueTask DisposeAsync() => PeerHost.StopAsync(_host, _started);
}

/// <summary>MassTransit's no-op consumer, resolved in its DI scope per message.</summary>
public sealed class MassTransitNoOpConsumer(Completion completion) : IConsumer<Job>
{
    /// <inheritdoc />
    public Task Consume(ConsumeContext<Job> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        completion.Signal(context.Message);
        return Task.CompletedTask;
    }
}
