using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Hangfire with Hangfire.InMemory storage: <c>AddHangfire</c> + <c>AddHangfireServer</c> with N workers, jobs
/// enqueued with <see cref="IBackgroundJobClient"/> as its documentation shows (an expression, serialized).
/// </summary>
internal sealed class HangfireContender : IContender
{
    private readonly IHost _host;
    private readonly IBackgroundJobClient _client;
    private bool _started;

    public HangfireContender(int workers)
    {
        var builder = PeerHost.CreateBuilder(Completion);
        builder.Services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseInMemoryStorage(new InMemoryStorageOptions()));
        builder.Services.AddHangfireServer(options => options.WorkerCount = workers);
        _host = builder.Build();
        _client = _host.Services.GetRequiredService<IBackgroundJobClient>();
    }

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
    }

    public ValueTask EnqueueAsync(Job job)
    {
        var index = job.Index;
        var enqueuedAt = job.EnqueuedAt;
        _client.Enqueue<HangfireNoOpJob>(handler => handler.Run(index, enqueuedAt));
        return default;
    }

    public ValueTask DisposeAsync() => PeerHost.StopAsync(_host, _started);
}

/// <summary>Hangfire's no-op job, activated from DI per job.</summary>
public sealed class HangfireNoOpJob(Completion completion)
{
    /// <summary>Counts the job done.</summary>
    public void Run(int index, long enqueuedAt) => completion.Signal(index, enqueuedAt);
}
