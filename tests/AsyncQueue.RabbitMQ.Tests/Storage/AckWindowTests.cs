using System.Collections.Concurrent;
using AsyncQueue.RabbitMQ.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using RabbitMQ.Client;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>
/// The coalesced acks of one channel, on a substitute channel that records each ack frame: what the broker would see
/// (the broker's side of it, a multiple ack never covering a running job, is in <see cref="PrefetchAndAckTests"/>).
/// </summary>
public sealed class AckWindowTests
{
    private const int Prefetch = 10;

    private readonly ConcurrentQueue<(ulong Tag, bool Multiple)> _acks = new();
    private readonly AckWindow _window;

    public AckWindowTests()
    {
        var channel = Substitute.For<IChannel>();

        // Configuring a substitute's ValueTask-returning member is a call whose ValueTask NSubstitute consumes.
#pragma warning disable CA2012
        channel.BasicAckAsync(default, default, default).ReturnsForAnyArgs(call =>
        {
            _acks.Enqueue(((ulong)call[0], (bool)call[1]));
            return ValueTask.CompletedTask;
        });
#pragma warning restore CA2012
        _window = new AckWindow(channel, "q", NullLogger.Instance);
    }

    /// <summary>
    /// A job that runs for hours while the others go past it: each of them is acked alone, once, and the window keeps
    /// no more than the unacked deliveries (the prefetch), not every job that passed; when the long job ends, its own
    /// tag is acked and nothing else is.
    /// </summary>
    [Fact]
    public async Task Settle_ManyJobsBehindOneThatNeverEnds_AcksEachAloneAndHoldsNoMoreThanThePrefetch()
    {
        _window.Delivered(1);
        ulong next = 2;
        for (var round = 0; round < 100; round++)
        {
            // As the broker does: deliveries up to the prefetch, the long job's included.
            var burst = Enumerable.Range(0, Prefetch - 1).Select(_ => next++).ToList();
            burst.ForEach(_window.Delivered);
            burst.ForEach(_window.Settle);
            await Poll.UntilAsync(() => _acks.Count == (int)next - 2, $"round {round}: the jobs behind the long one are acked");
            Assert.InRange(_window.Unacked, 1, Prefetch);
        }

        Assert.Equal(Enumerable.Range(2, (int)next - 2).Select(tag => ((ulong)tag, false)), _acks.OrderBy(a => a.Tag));
        Assert.Equal(1, _window.Unacked);

        _window.Settle(1);
        await _window.DrainAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal((1UL, true), _acks.Last());
        Assert.Equal((int)next - 1, _acks.Count);
        Assert.Equal(0, _window.Unacked);
    }

    /// <summary>Jobs settled in order are acked by multiple acks, none alone, and the last one names the last tag.</summary>
    [Fact]
    public async Task Settle_InOrder_AcksWithMultipleAcksUpToTheLastTag()
    {
        for (ulong tag = 1; tag <= 1_000; tag++)
        {
            _window.Delivered(tag);
            _window.Settle(tag);
        }

        await _window.DrainAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(_acks, ack => Assert.True(ack.Multiple));
        Assert.Equal(1_000UL, _acks.Max(a => a.Tag));
        Assert.Equal(0, _window.Unacked);
    }
}
