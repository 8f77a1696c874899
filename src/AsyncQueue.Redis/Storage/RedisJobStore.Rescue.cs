using System.Threading.Channels;
using AsyncQueue.Redis.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// The sweeper: takes over expired leases (their process crashed, was killed or stalled) under a new lease of this
/// process and hands them to the dispatcher, which decides their fate; frees retained idempotency keys past their time;
/// trims finished statuses; evicts dead letters past their queue's retention or capacity.
/// </summary>
internal sealed partial class RedisJobStore
{
    private const int RescueBatch = 256;

    // Jobs taken over and not yet fetched by the dispatcher.
    private readonly Channel<JobRecord> _expired = Channel.CreateUnbounded<JobRecord>(new UnboundedChannelOptions
    {
        SingleWriter = true,
        AllowSynchronousContinuations = false,
    });

    private readonly WakeSignal _sweep = new();

    // Leases are taken over only once a consumer is open: a process without a dispatcher would hold them unsettled.
    private volatile bool _rescuing;

    public IJobConsumer OpenExpiredLeaseConsumer()
    {
        _rescuing = true;
        _sweep.Set();

        // Nothing to count or to ask for: the sweeper fills the channel on its own timer.
        return new LeasedJobConsumer(_expired, static _ => { }, static () => { }, StillHolds);
    }

    private async Task SweepLoopAsync()
    {
        var stopping = _stopping.Token;

        // Sweep at once: what a crashed predecessor left leased may have expired already.
        _sweep.Set();
        var next = _time.GetUtcNow() + _options.SweepInterval;
        while (!stopping.IsCancellationRequested)
        {
            await SleepUntilAsync(next, _sweep.Task, stopping).ConfigureAwait(false);
            _sweep.Reset();
            next = _time.GetUtcNow() + _options.SweepInterval;
            foreach (var queue in _queueList)
            {
                if (stopping.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    await RescueExpiredLeasesAsync(queue).ConfigureAwait(false);
                    await UpkeepAsync(queue).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A loop of the store must outlive any failure (an outage, a damaged reply): it logs and tries again.
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    RedisLog.OperationFailed(_logger, ex, "sweep", queue.Name);
                }
            }
        }
    }

    /// <summary>
    /// Takes over every expired lease of a queue: the script checks each is still expired and sets a new token (the lost
    /// holder's later writes fail) and expiry, leaving the attempt and its started flag as they were. A job this very
    /// process still holds is alive (its heartbeat was only late), so its lease is extended instead.
    /// </summary>
    private async Task RescueExpiredLeasesAsync(RedisQueue queue)
    {
        while (true)
        {
            var nowMs = NowMs;
            var expired = await _db.SortedSetRangeByScoreAsync(queue.Key("leased"), double.NegativeInfinity, nowMs, take: RescueBatch).ConfigureAwait(false);
            if (expired.Length == 0)
            {
                return;
            }

            var mine = new List<JobRecord>();
            var others = new List<RedisValue>();
            foreach (var id in expired)
            {
                if (_held.TryGetValue((string)id!, out var held))
                {
                    mine.Add(held);
                }
                else
                {
                    others.Add(id);
                }
            }

            if (mine.Count > 0)
            {
                await HeartbeatAsync(queue, mine).ConfigureAwait(false);
            }

            if (others.Count == 0 || !_rescuing || _stopping.IsCancellationRequested)
            {
                return;
            }

            var expires = nowMs + Ms(_options.LeaseDuration);
            var reply = (RedisResult[])(await RunAsync(RedisScripts.TakeOver, queue, [nowMs, expires, .. others]).ConfigureAwait(false))!;
            var token = (long)reply[0];
            for (var i = 1; i < reply.Length;)
            {
                var record = RecordOf(reply, ref i, queue, token, takenOver: true, FromMs(expires));

                // Held before the dispatcher can take it, so the heartbeat covers it until it is settled.
                _held[((RedisLease)record.StoreData!).Id] = record;
                _expired.Writer.TryWrite(record);
            }

            if (expired.Length < RescueBatch)
            {
                return;
            }
        }
    }

    private async Task UpkeepAsync(RedisQueue queue)
    {
        var options = _queueOptions.Get(queue.Name);
        var reply = (RedisResult[])(await RunAsync(RedisScripts.Sweep, queue, NowMs, Ms(options.FinishedJobRetention), StoredJobStatus.Capacity(options)).ConfigureAwait(false))!;
        CountStatusEvictions(queue, (long)reply[0]);
        for (var i = 1; i + 4 <= reply.Length; i += 4)
        {
            ReportDeadLetterEvictions((string)reply[i]!, [reply[i + 1], reply[i + 2], reply[i + 3]], 0);
        }
    }
}
