using System.Threading.Channels;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// The reference: a <see cref="Channel{T}"/> with default options (continuations never inline) and N reader loops,
/// the code a user writes by hand. Each loop calls the same no-op handler as the engine.
/// </summary>
internal sealed class ChannelContender : IContender
{
    private readonly Channel<Job> _channel;
    private readonly NoOpHandler _handler;
    private readonly int _workers;
    private Task[] _loops = [];
    private long _parks;

    public ChannelContender(int workers, int? capacity)
    {
        _workers = workers;
        _handler = new NoOpHandler(Completion);
        _channel = capacity is int bound
            ? Channel.CreateBounded<Job>(new BoundedChannelOptions(bound) { FullMode = BoundedChannelFullMode.Wait })
            : Channel.CreateUnbounded<Job>();
    }

    public Completion Completion { get; } = new();

    /// <summary>Gets how many times a reader found the channel empty and parked (each park ends in one wake-up).</summary>
    public long Parks => Interlocked.Read(ref _parks);

    public Task StartAsync()
    {
        _loops = [.. Enumerable.Range(0, _workers).Select(_ => Task.Run(ReadLoopAsync))];
        return Task.CompletedTask;
    }

    public ValueTask EnqueueAsync(Job job) =>
        _channel.Writer.TryWrite(job) ? default : _channel.Writer.WriteAsync(job);

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await Task.WhenAll(_loops);
    }

    private async Task ReadLoopAsync()
    {
        var reader = _channel.Reader;
        while (true)
        {
            // Counted only when the reader parks, already the slow path: the loop is otherwise the hand-written one.
            var ready = reader.WaitToReadAsync();
            if (!ready.IsCompleted)
            {
                Interlocked.Increment(ref _parks);
            }

            if (!await ready.ConfigureAwait(false))
            {
                return;
            }

            while (reader.TryRead(out var job))
            {
                await _handler.HandleAsync(job, default, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
