using AsyncQueue.RabbitMQ.Diagnostics;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// The acks of one consuming channel (one incarnation of it), coalesced: a settled delivery is acked by one
/// <c>basic.ack</c> with <c>multiple</c> set for the highest tag below which every delivery is settled, sent by one
/// flusher per channel right after the settlements available now, instead of one ack frame (and one quorum-queue
/// settle command) per job.
/// </summary>
/// <remarks>
/// <para>
/// Why a multiple ack never acks an unsettled job: the broker's multiple ack of tag T acks every unacked delivery of
/// the channel up to T. The channel carries one consumer, whose deliveries arrive in tag order and are all
/// <see cref="Delivered"/> here in that order; T is only ever the last of a prefix of that order whose every delivery
/// is settled (or was acked alone before), so nothing unsettled lies at or below it. T itself is never a tag acked
/// alone before (the broker refuses an ack of an unknown tag by closing the channel).
/// </para>
/// <para>
/// A delivery settled behind one still running (workers finish out of order) waits for that gap to close, but only
/// through one flush: if it is still behind a gap at the next one, it is acked alone, and forgotten. So a long job holds
/// no other job's ack (nor the prefetch window) for longer than a flush, an ack is never held indefinitely, and what the
/// window keeps is the channel's unacked deliveries, which the prefetch bounds, however long a job runs (a later
/// multiple ack passes over the tags acked alone: the broker no longer holds them).
/// </para>
/// <para>
/// The store settles each delivery once, after its outcome is recorded; a tag settled twice would be acked twice, which
/// the broker answers by closing the channel (its unacked jobs delivered again, nothing lost).
/// </para>
/// <para>
/// Settling only records and wakes the flusher: the completion the dispatcher awaits ends before the ack frame is
/// written, as it ended before the broker read it when each job was acked alone. If the channel closes first, the
/// broker delivers the job again (at least once, as for any ack lost with its connection).
/// </para>
/// </remarks>
internal sealed class AckWindow(IChannel channel, string queue, ILogger logger)
{
    /// <summary>How long the flusher waits before it acks alone the deliveries still settled behind a gap (real time: it paces frames to the broker, not jobs).</summary>
    private static readonly TimeSpan GapWait = TimeSpan.FromMilliseconds(1);

    private readonly Lock _gate = new();

    /// <summary>Every delivery not yet acked, in tag order: at most the channel's prefetch.</summary>
    private readonly Queue<ulong> _order = new();

    /// <summary>The settled deliveries of <see cref="_order"/>, with the flush generation they were settled in.</summary>
    private readonly Dictionary<ulong, long> _settled = [];

    private long _generation;
    private bool _flushing;
    private bool _settledSinceFlush;
    private bool _draining;
    private bool _closed;
    private TaskCompletionSource? _drained;

    /// <summary>Gets how many deliveries the window holds: those not acked yet.</summary>
    internal int Unacked
    {
        get
        {
            lock (_gate)
            {
                return _order.Count;
            }
        }
    }

    /// <summary>Records a delivery, in the order of the channel's deliveries.</summary>
    public void Delivered(ulong tag)
    {
        lock (_gate)
        {
            _order.Enqueue(tag);
        }
    }

    /// <summary>Records that a delivery's job is settled (its outcome recorded), so that its ack may go, and wakes the flusher.</summary>
    public void Settle(ulong tag)
    {
        lock (_gate)
        {
            if (_closed || !_settled.TryAdd(tag, _generation))
            {
                return;
            }

            _settledSinceFlush = true;
            if (_flushing)
            {
                return;
            }

            _flushing = true;
        }

        // Off the settling worker: it goes on to its next job while the flusher gathers what settled meanwhile.
        ThreadPool.UnsafeQueueUserWorkItem(static window => _ = window.FlushAsync(), this, preferLocal: false);
    }

    /// <summary>Acks every settled delivery now, gaps or not, and completes once those acks are written (or the channel is gone).</summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            _draining = true;
            if (_closed || (!_flushing && _settled.Count == 0))
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var drained = _drained.Task;
            if (!_flushing)
            {
                _flushing = true;
                _settledSinceFlush = true;
                ThreadPool.UnsafeQueueUserWorkItem(static window => _ = window.FlushAsync(), this, preferLocal: false);
            }

            return drained;
        }
    }

    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                ulong? multiple = null;
                List<ulong>? alone = null;
                lock (_gate)
                {
                    if (!_settledSinceFlush && _settled.Count == 0)
                    {
                        _flushing = false;
                        break;
                    }

                    _settledSinceFlush = false;
                    var generation = _generation++;
                    while (_order.TryPeek(out var head) && _settled.Remove(head))
                    {
                        multiple = _order.Dequeue();
                    }

                    // What is left is settled behind a gap: held through one flush, then acked alone.
                    foreach (var (tag, settledIn) in _settled)
                    {
                        if (_draining || settledIn < generation)
                        {
                            (alone ??= []).Add(tag);
                        }
                    }

                    if (alone is not null)
                    {
                        Forget(alone);
                    }
                }

                if (multiple is { } upTo)
                {
                    await channel.BasicAckAsync(upTo, multiple: true).ConfigureAwait(false);
                }

                foreach (var tag in alone ?? [])
                {
                    await channel.BasicAckAsync(tag, multiple: false).ConfigureAwait(false);
                }

                bool wait;
                lock (_gate)
                {
                    wait = !_settledSinceFlush && _settled.Count > 0;
                }

                if (wait)
                {
                    await Task.Delay(GapWait).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
        {
            // The channel is gone, and with it every unacked delivery: the broker delivers those again.
            Close();
            return;
        }
#pragma warning disable CA1031 // An ack that fails is a delivery the broker gives again; the flusher must not throw unobserved.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RabbitMqLog.OperationFailed(logger, ex, "ack settled jobs", queue);
            Close();
            return;
        }

        TaskCompletionSource? drained = null;
        lock (_gate)
        {
            if (_closed || (!_flushing && _settled.Count == 0))
            {
                drained = _drained;
            }
        }

        drained?.TrySetResult();
    }

    /// <summary>
    /// Drops deliveries about to be acked alone from the window (under the gate), so that a job that never settles
    /// leaves behind it only the deliveries not acked yet, not every job that passed it.
    /// </summary>
    private void Forget(List<ulong> acked)
    {
        var passed = acked.ToHashSet();
        foreach (var tag in acked)
        {
            _settled.Remove(tag);
        }

        for (var left = _order.Count; left > 0; left--)
        {
            var tag = _order.Dequeue();
            if (!passed.Contains(tag))
            {
                _order.Enqueue(tag);
            }
        }
    }

    /// <summary>Forgets every unacked delivery: the channel closed, and the broker delivers them again.</summary>
    public void Close()
    {
        TaskCompletionSource? drained;
        lock (_gate)
        {
            _closed = true;
            drained = _drained;
        }

        drained?.TrySetResult();
    }
}
