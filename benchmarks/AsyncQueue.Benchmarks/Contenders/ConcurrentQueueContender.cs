using System.Collections.Concurrent;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>The other hand-written classic: a <see cref="ConcurrentQueue{T}"/> whose items a <see cref="SemaphoreSlim"/> counts.</summary>
internal sealed class ConcurrentQueueContender : IContender
{
    private readonly ConcurrentQueue<Job> _queue = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly NoOpHandler _handler;
    private readonly int _workers;
    private Task[] _loops = [];

    public ConcurrentQueueContender(int workers)
    {
        _workers = workers;
        _handler = new NoOpHandler(Completion);
    }

    public Completion Completion { get; } = new();

    public Task StartAsync()
    {
        _loops = [.. Enumerable.Range(0, _workers).Select(_ => Task.Run(WorkLoopAsync))];
        return Task.CompletedTask;
    }

    public ValueTask EnqueueAsync(Job job)
    {
        _queue.Enqueue(job);
        _available.Release();
        return default;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_loops);
        }
        catch (OperationCanceledException)
        {
            // The loops end by cancellation.
        }

        _available.Dispose();
        _stop.Dispose();
    }

    private async Task WorkLoopAsync()
    {
        var stop = _stop.Token;
        while (true)
        {
            await _available.WaitAsync(stop).ConfigureAwait(false);
            if (_queue.TryDequeue(out var job))
            {
                await _handler.HandleAsync(job, default, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
