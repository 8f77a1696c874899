using Coravel;
using Coravel.Invocable;
using Coravel.Queuing.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Coravel's queue: an invocable with a payload, resolved in a DI scope per job. Its consumer wakes on a timer; the
/// consumption delay is set to 1 s (its default is 30 s). It has no worker count: each tick runs everything queued.
/// </summary>
internal sealed class CoravelContender : IContender
{
    private readonly IHost _host;
    private readonly IQueue _queue;
    private bool _started;

    public CoravelContender()
    {
        // The key is spelled this way in Coravel 6.0.2 ("Consummation").
        var builder = PeerHost.CreateBuilder(Completion, [new("Coravel:Queue:ConsummationDelay", "1")]);
        builder.Services.AddQueue();
        builder.Services.AddTransient<CoravelNoOpInvocable>();
        _host = builder.Build();
        _queue = _host.Services.GetRequiredService<IQueue>();
    }

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
    }

    public ValueTask EnqueueAsync(Job job)
    {
        _queue.QueueInvocableWithPayload<CoravelNoOpInvocable, Job>(job);
        return default;
    }

    public ValueTask DisposeAsync() => PeerHost.StopAsync(_host, _started);
}

/// <summary>Coravel's no-op job.</summary>
public sealed class CoravelNoOpInvocable(Completion completion) : IInvocable, IInvocableWithPayload<Job>
{
    /// <inheritdoc />
    public Job Payload { get; set; } = null!;

    /// <inheritdoc />
    public Task Invoke()
    {
        completion.Signal(Payload);
        return Task.CompletedTask;
    }
}
