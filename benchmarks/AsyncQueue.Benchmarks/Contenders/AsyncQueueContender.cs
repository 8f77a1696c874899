using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// The engine as an application uses it: <c>AddJobQueue().AddHandler</c>, the hosted services started, jobs
/// enqueued through <see cref="IJobQueue"/>. Without the full pipeline the handler is a singleton, so the dispatcher
/// skips the per-job scope: the fair comparison with Channel&lt;T&gt;.
/// </summary>
internal sealed class AsyncQueueContender : IContender
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;
    private readonly IJobQueue _queue;
    private readonly bool _fullPipeline;
    private bool _started;
    private long _sequence;

    public AsyncQueueContender(int workers, bool fullPipeline)
        : this((services, _) =>
        {
            if (!fullPipeline || !FullPipeline.ScopePerJob)
            {
                // Registered before AddHandler: the dispatcher sees a singleton and creates no scope per job.
                services.AddSingleton<IJobHandler<Job>, NoOpHandler>();
            }

            var builder = services.AddJobQueue().AddHandler<Job, NoOpHandler>(queue => queue.MaxConcurrency = workers);
            if (fullPipeline)
            {
                FullPipeline.Configure(builder);
            }
        })
    {
        _fullPipeline = fullPipeline;
    }

    /// <summary>A queue configured by <paramref name="configure"/> (scenarios 4, 5 and SQLite): it registers the handler and calls <c>AddJobQueue</c>.</summary>
    /// <param name="configure">Gets the services, with <see cref="Completion"/> already registered, and this contender's completion.</param>
    public AsyncQueueContender(Action<IServiceCollection, Completion> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton(Completion);
        configure(services, Completion);
        _services = services.BuildServiceProvider();
        _hosted = [.. _services.GetServices<IHostedService>()];
        _queue = _services.GetRequiredService<IJobQueue>();
    }

    /// <summary>Gets the queue, for scenarios that enqueue with their own options or in batches.</summary>
    public IJobQueue Queue => _queue;

    public Completion Completion { get; } = new();

    public async Task StartAsync()
    {
        foreach (var hosted in _hosted)
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        _started = true;
    }

    public ValueTask EnqueueAsync(Job job)
    {
        var pending = _queue.EnqueueAsync(job, _fullPipeline ? FullPipeline.EnqueueOptions(Interlocked.Increment(ref _sequence)) : null);
        if (pending.IsCompletedSuccessfully)
        {
            return default;
        }

        return AwaitAsync(pending);

        static async ValueTask AwaitAsync(ValueTask<EnqueueResult> pending) => await pending;
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            foreach (var hosted in _hosted.Reverse())
            {
                await hosted.StopAsync(timeout.Token);
            }
        }

        await _services.DisposeAsync();
    }
}
