using System.Text;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// The dead-letter queues: classic queues of the dead jobs' messages (moved there by the broker's dead-letter exchange), the errors of every attempt in their headers.
/// A queue cannot be read without taking messages, so listing and finding by id <b>browse</b>: a channel of its own
/// gets the messages without acking them and closes, which puts every one back where it was. Nothing is lost, but
/// while a browse runs, the messages it holds are invisible to another browse and to counts, and a browse costs one
/// round trip per message (reading a 10,000-entry queue to find one id takes seconds).
/// </summary>
internal sealed partial class RabbitMqJobStore
{
    private RabbitMqDeadLetters? _deadLetters;

    internal async ValueTask<IReadOnlyList<DeadLetterEntry>> ListDeadLettersAsync(string deadLetterQueue, int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        var entries = new List<DeadLetterEntry>();
        var index = 0;
        await BrowseAsync(deadLetterQueue, (_, message) =>
        {
            if (index++ >= skip)
            {
                entries.Add(ReadDeadLetter(deadLetterQueue, message).Entry);
            }

            return Task.FromResult(entries.Count < take ? Visit.Next : Visit.Stop);
        }, cancellationToken).ConfigureAwait(false);
        return entries;
    }

    internal async ValueTask<long> CountDeadLettersAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        await _started.WaitAsync(cancellationToken).ConfigureAwait(false);
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        try
        {
            return (await channel.QueueDeclarePassiveAsync(deadLetterQueue, cancellationToken).ConfigureAwait(false)).MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    internal async ValueTask<DeadLetterEntry?> GetDeadLetterAsync(JobId jobId, CancellationToken cancellationToken)
    {
        DeadLetterEntry? found = null;
        await FindDeadLetterAsync(jobId, (_, _, dead) =>
        {
            found = dead.Entry;
            return Task.FromResult(false);
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    internal async ValueTask<bool> RequeueDeadLetterAsync(JobId jobId, CancellationToken cancellationToken) =>
        await FindDeadLetterAsync(jobId, async (channel, message, dead) =>
        {
            await RequeueAsync(channel, message, dead, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    internal async ValueTask<bool> DeleteDeadLetterAsync(JobId jobId, CancellationToken cancellationToken) =>
        await FindDeadLetterAsync(jobId, async (channel, message, _) =>
        {
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    internal async ValueTask<int> RequeueAllDeadLettersAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        var requeued = 0;
        await BrowseAsync(deadLetterQueue, async (channel, message) =>
        {
            await RequeueAsync(channel, message, ReadDeadLetter(deadLetterQueue, message), cancellationToken).ConfigureAwait(false);
            requeued++;
            return Visit.Acked;
        }, cancellationToken).ConfigureAwait(false);
        return requeued;
    }

    internal async ValueTask<int> PurgeDeadLettersAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        await _started.WaitAsync(cancellationToken).ConfigureAwait(false);
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        try
        {
            return (int)await channel.QueuePurgeAsync(deadLetterQueue, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    /// <summary>Back to its work queue as a first attempt, its errors kept (confirmed), then out of the dead-letter queue.</summary>
    private async Task RequeueAsync(IChannel channel, BasicGetResult message, (JobRecord Record, DeadLetterEntry Entry) dead, CancellationToken cancellationToken)
    {
        dead.Record.ResetAttempts();
        await PublishAsync(dead.Record, message.Body.ToArray(), dead.Record.Queue, null, null, cancellationToken).ConfigureAwait(false);
        await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Browses the dead-letter queues this process knows of for one job; <paramref name="act"/> runs on it before the browse ends.</summary>
    private async Task<bool> FindDeadLetterAsync(JobId jobId, Func<IChannel, BasicGetResult, (JobRecord Record, DeadLetterEntry Entry), Task<bool>> act, CancellationToken cancellationToken)
    {
        var id = jobId.ToString();
        foreach (var name in KnownDeadLetterQueues())
        {
            var found = false;
            await BrowseAsync(name, async (channel, message) =>
            {
                if (message.BasicProperties.MessageId != id)
                {
                    return Visit.Next;
                }

                var acked = await act(channel, message, ReadDeadLetter(name, message)).ConfigureAwait(false);
                found = true;
                return acked ? Visit.Stop | Visit.Acked : Visit.Stop;
            }, cancellationToken).ConfigureAwait(false);
            if (found)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The dead-letter queues a lookup by id searches: those this process dead-lettered into or was asked about, and
    /// those named in the queues' options. (The default name is the core's rule, which the store does not repeat.)
    /// </summary>
    private IEnumerable<string> KnownDeadLetterQueues() =>
        _deadLetterQueues.Keys
            .Concat(_queueNames.Select(q => _queueOptions.Get(q).DeadLetterQueue).OfType<string>())
            .Distinct(StringComparer.Ordinal);

    /// <summary>Gets the queue's messages one by one without acking them, at most as many as it held at the start; closing the channel puts back those not acked.</summary>
    private async Task BrowseAsync(string queue, Func<IChannel, BasicGetResult, Task<Visit>> visit, CancellationToken cancellationToken)
    {
        await _started.WaitAsync(cancellationToken).ConfigureAwait(false);
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        uint count;
        try
        {
            count = (await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            // Forget only what a browse remembered (the completed placeholder): a first dead letter may be declaring the
            // queue right now, and forgetting its entry would hide the queue from every later lookup by id.
            _deadLetterQueues.TryRemove(new KeyValuePair<string, Task>(queue, Task.CompletedTask));
            return;
        }

        // Remembered once it is known to exist, never before: a placeholder for a queue still missing would let a first
        // dead letter skip declaring it.
        _deadLetterQueues.TryAdd(queue, Task.CompletedTask);

        var held = 0L;
        var acked = 0L;
        for (var i = 0; i < count; i++)
        {
            var message = await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                break;
            }

            held++;
            var visited = await visit(channel, message).ConfigureAwait(false);
            acked += (visited & Visit.Acked) != 0 ? 1 : 0;
            if ((visited & Visit.Stop) != 0)
            {
                break;
            }
        }

        await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
        await WaitForReturnsAsync(queue, count - acked, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the messages a browse held are back in the queue. A quorum queue takes back a closed channel's
    /// unacked messages through its log, a moment after the close; a browse or count that came first would not see them.
    /// </summary>
    private async Task WaitForReturnsAsync(string queue, long expected, CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var closing = channel.ConfigureAwait(false);
        for (var tries = 0; tries < 500; tries++)
        {
            if ((await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).MessageCount >= expected)
            {
                return;
            }

            // Real time, not the store's clock: this waits for the broker, which a fake clock does not move.
            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
        }
    }

    private (JobRecord Record, DeadLetterEntry Entry) ReadDeadLetter(string deadLetterQueue, BasicGetResult message)
    {
        var properties = message.BasicProperties;
        var kind = string.IsNullOrEmpty(properties.Type) ? "(no kind)" : properties.Type;
        var now = _time.GetUtcNow();
        var id = JobId.TryParse(properties.MessageId, out var parsed) ? parsed : JobId.NewId();
        var queue = MessageHeaders.GetString(properties, MessageHeaders.Queue) ?? "(unknown queue)";
        var enqueuedAt = MessageHeaders.GetInt64(properties, MessageHeaders.EnqueuedAt) is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : now;
        var record = new JobRecord(id, kind, queue, _payloads.Read(kind, Encoding.UTF8.GetString(message.Body.Span)), enqueuedAt)
        {
            MaxAttempts = (int?)MessageHeaders.GetInt64(properties, MessageHeaders.MaxAttempts),
            TraceParent = MessageHeaders.GetString(properties, MessageHeaders.TraceParent),
            TraceState = MessageHeaders.GetString(properties, MessageHeaders.TraceState),
            Attempt = (int)(MessageHeaders.GetInt64(properties, MessageHeaders.Attempt) ?? 0),
        };
        foreach (var error in JobPayloads.DeserializeErrors(MessageHeaders.GetString(properties, MessageHeaders.Errors)))
        {
            record.AddError(error);
        }

        var at = MessageHeaders.GetInt64(properties, MessageHeaders.DeadLetteredAt) is { } deadTicks ? new DateTimeOffset(deadTicks, TimeSpan.Zero) : now;
        return (record, new DeadLetterEntry(record, deadLetterQueue, at));
    }

    [Flags]
    private enum Visit
    {
        Next = 0,
        Stop = 1,
        Acked = 2,
    }
}
