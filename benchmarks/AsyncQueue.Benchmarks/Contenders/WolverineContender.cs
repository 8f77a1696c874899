using JasperFx.CodeGeneration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Wolverine's local queues (buffered, in memory): the message type routed to one local queue with N parallel
/// messages, published through <see cref="IMessageBus"/>.
/// </summary>
internal sealed class WolverineContender : IContender
{
    private const string QueueName = "noop";
    private readonly IHost _host;
    private readonly AsyncServiceScope _scope;
    private IMessageBus? _bus;
    private bool _started;

    public WolverineContender(int workers)
    {
        var builder = PeerHost.CreateBuilder(Completion);
        builder.Services.AddWolverine(options =>
        {
            options.ApplicationAssembly = typeof(WolverineNoOpHandler).Assembly;
            options.Discovery.DisableConventionalDiscovery().IncludeType(typeof(WolverineNoOpHandler));
            options.Durability.Mode = DurabilityMode.Solo;
            options.CodeGeneration.TypeLoadMode = TypeLoadMode.Dynamic;
            options.UseRuntimeCompilation();
            options.PublishMessage<Job>().ToLocalQueue(QueueName);
            options.LocalQueue(QueueName).MaximumParallelMessages(workers);
        });
        _host = builder.Build();
        _scope = _host.Services.CreateAsyncScope();
    }

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
        _bus = _scope.ServiceProvider.GetRequiredService<IMessageBus>();
    }

    public ValueTask EnqueueAsync(Job job) => _bus!.PublishAsync(job);

    public async ValueTask DisposeAsync()
    {
        await _scope.DisposeAsync();
        await PeerHost.StopAsync(_host, _started);
    }
}

/// <summary>Wolverine's no-op handler; Wolverine injects <see cref="Completion"/> from DI.</summary>
public static class WolverineNoOpHandler
{
    /// <summary>Counts the job done.</summary>
    public static void Handle(Job job, Completion completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        completion.Signal(job);
    }
}
