using System.Threading.Channels;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Scenario 4's baseline: an unbounded <see cref="Channel{T}"/> with N reader loops running <see cref="FlakyHandler"/>.
/// No retry policy and no re-queue: a loop that sees an attempt fail catches the exception and runs the job's second
/// attempt at once, in place, the least a hand-written loop must do to get every job done.
/// </summary>
internal sealed class FlakyChannelContender : IContender
{
    private readonly Channel<Job> _channel = Channel.CreateUnbounded<Job>();
    private readonly int _workers;
    private Task[] _loops = [];

    public FlakyChannelContender(int workers)
    {
        _workers = workers;
        Handler = new FlakyHandler(Completion);
    }

    public Completion Completion { get; } = new();

    public FlakyHandler Handler { get; }

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
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var job))
            {
                try
                {
                    await Handler.RunAsync(job, attempt: 1).ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    await Handler.RunAsync(job, attempt: 2).ConfigureAwait(false);
                }
            }
        }
    }
}
