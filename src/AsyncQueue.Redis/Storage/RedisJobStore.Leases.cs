using System.Globalization;
using AsyncQueue.Redis.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>Leases with fencing: the consumers, each queue's fetch loop (ordinary jobs in batches, one isolated job at a time), heartbeats.</summary>
internal sealed partial class RedisJobStore
{
    // The message on a queue's wake-up channel that says the queue was paused (any other wakes the fetch loop).
    private const string PauseMessage = "pause";

    // 1 while this store holds an isolated job (_isolatedJob) or a fetch loop may be leasing one: a store holds at most one.
    private int _isolatedHeld;
    private JobRecord? _isolatedJob;

    public IJobConsumer OpenConsumer(string queue)
    {
        var state = GetQueue(queue);
        return new LeasedJobConsumer(state.Ready, state.AddWaiting, state.Wake.SetForDemand, job =>
        {
            // Every job a consumer takes passes here once, whether it still holds or not.
            ((RedisLease)job.StoreData!).MarkTaken();
            state.Taken();
            TopUp(state);
            return StillHolds(job);
        });
    }

    /// <summary>
    /// Wakes the queue's fetch loop once the jobs leased ahead have drained to half of what the loop keeps ahead (see
    /// <see cref="Demand"/>; at once without a buffer, where it also covers a waiting worker that the loop's last reading
    /// of the demand missed): one script call then leases many jobs, rather than one per job taken. Called after each
    /// take and each completion, the only changes that can make the loop's condition to lease true.
    /// </summary>
    private void TopUp(RedisQueue queue)
    {
        if (queue.Untaken <= Math.Min(_options.LeaseAhead / 2, queue.Settled))
        {
            queue.Wake.SetForDemand();
        }
    }

    /// <summary>Whether a leased job still belongs to this process: one whose lease lapsed and was taken over elsewhere must not start here too.</summary>
    internal bool StillHolds(JobRecord job) =>
        _held.TryGetValue(((RedisLease)job.StoreData!).Id, out var held) && ReferenceEquals(held, job);

    /// <summary>
    /// Leases, for one queue, as many due jobs as its workers in this process wait for, in one script call; then sleeps
    /// until a worker waits, a wake-up comes (this process or the queue's channel), the next delayed job falls due, or
    /// the poll interval passes.
    /// </summary>
    /// <remarks>
    /// A lease that found fewer due jobs than it asked for, or took the last ready one, emptied what this process can lease: until something says a
    /// job may be due (<see cref="WakeSignal.Set"/>, <see cref="WakeSignal.SetEnqueued"/>: an enqueue here, a wake-up from the channel, a retry, a resume, a freed
    /// isolated place) or the loop's own deadline (the next delayed job, the poll) comes, a change of demand alone (a
    /// worker waits, takes or settles) leases nothing, so it sends nothing, and does not even wake the loop
    /// (<see cref="WakeSignal.SleepDrained"/>: with single enqueues a job's take and its completion would each wake it
    /// for nothing). Nor does an enqueue of this process that the lease covered: one whose script ran before the lease's
    /// (its sequence number is at most what the loop read before the lease, or what the lease script found when it
    /// emptied the ready set), whose jobs that lease took; with single enqueues, the wake-up of the job that a lease
    /// already took sent a second lease that found nothing. The wake-up's generation and the enqueues' sequence are read
    /// before the lease, so a wake-up that comes while the lease is on its way is not missed. Another process's enqueue into the empty ready
    /// set publishes a wake-up (<see cref="RedisScripts.Enqueue"/>); into a non-empty one it needs none, since this process
    /// has leased since that set was last emptied.
    /// </remarks>
    private async Task FetchLoopAsync(RedisQueue queue)
    {
        var stopping = _stopping.Token;
        var drainedUntil = DateTimeOffset.MinValue;
        while (!stopping.IsCancellationRequested)
        {
            queue.Wake.Reset();
            var started = _time.GetUtcNow();
            var generation = queue.Wake.Generation;
            var enqueued = queue.Wake.Enqueued;
            if (started < drainedUntil && queue.Wake.StillDrained(generation, enqueued))
            {
                await SleepUntilAsync(drainedUntil, queue.Wake.Task, stopping).ConfigureAwait(false);
                continue;
            }

            queue.Wake.LeaseAgain();
            TimeSpan sleep;
            try
            {
                (sleep, var drained, var emptiedAt) = await LeaseForDemandAsync(queue).ConfigureAwait(false);
                if (drained)
                {
                    drainedUntil = started + sleep;
                    queue.Wake.SleepDrained(generation, Math.Max(enqueued, emptiedAt));
                }
            }
#pragma warning disable CA1031 // A loop of the store must outlive any failure (an outage, a damaged reply): it logs and tries again.
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
#pragma warning restore CA1031
            {
                RedisLog.OperationFailed(_logger, ex, "lease jobs", queue.Name);
                sleep = _options.PollInterval;
            }

            if (sleep == TimeSpan.Zero)
            {
                continue;
            }

            await SleepUntilAsync(sleep == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : started + sleep, queue.Wake.Task, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Leases for the waiting workers and the buffer ahead; returns how long to sleep (zero to lease again at once, else
    /// until the next due job or the poll), whether the lease found fewer due jobs than it asked for or took the last
    /// ready one, with no rate limit in the way (what this process can lease is used up), and the queue's sequence when
    /// the lease emptied the ready set (-1: it did not).
    /// </summary>
    private async Task<(TimeSpan Sleep, bool Drained, long EmptiedAt)> LeaseForDemandAsync(RedisQueue queue)
    {
        var demand = Demand(queue);
        if (demand <= 0)
        {
            // No worker waits and the buffer is full (or completions are behind): sleep until a worker waits, takes from
            // the buffer or settles, or the completions catch up.
            return (Timeout.InfiniteTimeSpan, false, -1);
        }

        var mayIsolate = Interlocked.CompareExchange(ref _isolatedHeld, 1, 0) == 0;
        var leasedIsolated = false;
        RedisResult[] reply;
        long nowMs;
        int wanted;
        var leased = 0;
        await queue.LeaseGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            nowMs = now.ToUnixTimeMilliseconds();
            var expires = nowMs + Ms(_options.LeaseDuration);
            wanted = Math.Min(demand, _options.FetchBatchSize);
            reply = (RedisResult[])(await (SharedLimit(queue) is { } rate
                ? RunAsync(RedisScripts.Fetch, queue, nowMs, expires, wanted, mayIsolate ? 1 : 0, rate.WindowOf(now), rate.Permits, rate.WindowStart(rate.WindowOf(now) + 1).ToUnixTimeMilliseconds(), Ms(rate.Period))
                : RunAsync(RedisScripts.Fetch, queue, nowMs, expires, wanted, mayIsolate ? 1 : 0)).ConfigureAwait(false))!;
            var token = (long)reply[0];
            for (var i = 3; token > 0 && i < reply.Length;)
            {
                var record = RecordOf(reply, ref i, queue, token, takenOver: false, FromMs(expires));
                leased++;
                if (record.Isolated && mayIsolate)
                {
                    leasedIsolated = true;
                    Volatile.Write(ref _isolatedJob, record);
                }

                // Held before a worker can take it, so the heartbeat covers it from the start.
                _held[((RedisLease)record.StoreData!).Id] = record;
                queue.Handed();
                queue.Ready.Writer.TryWrite(record);
            }
        }
        finally
        {
            queue.LeaseGate.Release();
            if (mayIsolate && !leasedIsolated)
            {
                Volatile.Write(ref _isolatedHeld, 0);
            }
        }

        if ((long)reply[0] < 0)
        {
            // Paused (here or by another process, whose message may have been lost): what was leased ahead goes back.
            // A resume publishes a wake-up; the poll covers a lost one.
            await HandBackUntakenAsync(queue).ConfigureAwait(false);
            return (_options.PollInterval, false, -1);
        }

        var emptiedAt = reply.Length > 2 ? (long)reply[2] : -1;
        if (leased >= wanted && emptiedAt < 0)
        {
            return (TimeSpan.Zero, false, -1);
        }

        // Fewer were due than wanted, or the lease took the last ready job (leasing again at once would find nothing), or
        // a rate limit's window is used up: sleep until the next delayed job falls due (or the window ends), a wake-up,
        // or the poll.
        var nextDue = (long)reply[1];
        var untilDue = nextDue > 0 ? TimeSpan.FromMilliseconds(Math.Max(0, nextDue - nowMs)) : _options.PollInterval;
        // Not drained when this lease had no right to the isolated place (another loop held it): an isolated job of this
        // queue may be waiting for it, so a worker's next wait must send a lease.
        return (untilDue < _options.PollInterval ? untilDue : _options.PollInterval, SharedLimit(queue) is null && mayIsolate, emptiedAt);
    }

    /// <summary>
    /// How many jobs to lease for a queue: one per waiting worker; with <see cref="RedisStoreOptions.LeaseAhead"/>, also
    /// one per worker that just completed a job (it fetches next), plus what tops the untaken jobs up to twice what the
    /// workers completed since the last lease (about what they take while the next lease is on its way), at most
    /// <see cref="RedisStoreOptions.LeaseAhead"/>; none while completions are behind (<see cref="CompletionsBehind"/>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The buffer grows with the workers' pace instead of being filled at once (as in the PostgreSQL store): fast jobs
    /// keep a worker from waiting for a round trip (the buffer doubles each round trip until it covers one), while an
    /// idle queue, or one of slow jobs, leases little more than its workers run, so other processes are not starved and
    /// a more urgent job enqueued a moment later waits behind few.
    /// </para>
    /// <para>
    /// Untaken is read before Waiting so the demand never runs ahead: a worker that takes a job between the two reads
    /// has left Waiting (before it counts as taken), so at worst this leases too few, and the take's TopUp wakes the loop
    /// to lease again. Read the other way round, that worker would count as waiting with its job no longer untaken: one
    /// job leased for nobody. A queue with a shared rate limit gets no buffer: a window's permits go to workers about to
    /// start them, in any process, not to jobs that could start in a later window.
    /// </para>
    /// </remarks>
    private int Demand(RedisQueue queue)
    {
        var untaken = queue.Untaken;
        if (_options.LeaseAhead == 0 || SharedLimit(queue) is not null)
        {
            queue.TakeSettled();
            return (int)Math.Min(queue.Waiting - untaken, int.MaxValue);
        }

        if (CompletionsBehind())
        {
            return 0;
        }

        // While no worker waits, lease only once the buffer has drained to half of what it should hold (TopUp wakes the
        // loop then): one script call then brings many jobs, rather than one per job completed, which on a busy server
        // costs Redis more than the jobs themselves. The completions keep counting meanwhile.
        var waiting = queue.Waiting;
        if (waiting == 0 && untaken > Math.Min(_options.LeaseAhead / 2, queue.Settled))
        {
            return 0;
        }

        var settled = queue.TakeSettled();
        var ahead = Math.Min(_options.LeaseAhead, 2L * settled);
        return (int)Math.Min(waiting + settled + Math.Max(0, ahead - untaken), int.MaxValue);
    }

    /// <summary>
    /// Hands back, with no attempt spent, the jobs leased for this process's workers that none took (the buffer leased
    /// ahead): the queue was paused, and a paused queue starts no job.
    /// </summary>
    private async Task HandBackUntakenAsync(RedisQueue queue)
    {
        // Under the lease gate: a count meanwhile would read a job no longer untaken, and not yet released, as running.
        await queue.LeaseGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            while (queue.Ready.Reader.TryRead(out var job))
            {
                queue.Taken();
                if (StillHolds(job))
                {
                    await TryReleaseAsync(job).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            queue.LeaseGate.Release();
        }
    }

    /// <summary>
    /// The record of a leased job, as the script's <c>hand_out</c> put it at <paramref name="at"/> (its id, how many values
    /// follow, then field names and values: kind, payload, attempt, max, enqueued, due, key, errors, traceparent,
    /// tracestate, priority, isolated, started, cancel, and a continuation's parents, policy and failed flag; a field the
    /// hash lacks reads as its default); moves <paramref name="at"/> past it. A job that cannot be read (its kind has no
    /// handler, its payload does not deserialize, a foreign writer damaged its hash) is handed out all the same, as an
    /// <see cref="UnreadableJob"/> that the dispatcher dead-letters.
    /// </summary>
    private JobRecord RecordOf(RedisResult[] reply, ref int at, RedisQueue queue, long token, bool takenOver, DateTimeOffset leaseExpires)
    {
        var id = (string)reply[at]!;
        var end = at + 2 + (int)reply[at + 1];
        string? kind = null, payload = null, attempt = null, max = null, enqueued = null, runAt = null, key = null, errors = null;
        string? traceParent = null, traceState = null, priority = null, parents = null, onParentFailure = null;
        bool isolated = false, started = false, cancel = false, parentFailed = false;
        for (var i = at + 2; i + 1 < end; i += 2)
        {
            var value = (string?)reply[i + 1];
            switch ((string?)reply[i])
            {
                case "kind": kind = value; break;
                case "payload": payload = value; break;
                case "attempt": attempt = value; break;
                case "max": max = value; break;
                case "enq": enqueued = value; break;
                case "runat": runAt = value; break;
                case "key": key = value; break;
                case "errors": errors = value; break;
                case "tp": traceParent = value; break;
                case "ts": traceState = value; break;
                case "prio": priority = value; break;
                case "iso": isolated = value == "1"; break;
                case "started": started = value == "1"; break;
                case "cancel": cancel = value == "1"; break;
                case "parents": parents = value; break;
                case "onpf": onParentFailure = value; break;
                case "pfail": parentFailed = value == "1"; break;
                default: break;
            }
        }

        at = end;
        var lease = new RedisLease(this, queue, id, token, takenOver);
        var record = BuildRecord(id, queue.Name, kind, payload, attempt, max, enqueued, runAt, key, errors, traceParent, traceState, priority, lease, parents, onParentFailure);
        record.ParentFailed = parentFailed;
        record.Isolated = isolated;
        record.StartRecorded = started;
        record.LeaseExpiresAt = leaseExpires;
        if (cancel)
        {
            record.RequestCancellation();
        }

        return record;
    }

    /// <summary>A record from stored fields; unreadable ones carry an <see cref="UnreadableJob"/> that says why.</summary>
    private JobRecord BuildRecord(
        string id, string queue, string? kind, string? payload, string? attempt, string? max, string? enqueued, string? runAt,
        string? key, string? errors, string? traceParent, string? traceState, string? priority, object? storeData, string? parents = null, string? onParentFailure = null)
    {
        var enqueuedTicks = long.TryParse(enqueued, NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) ? e : 0;
        var runAtTicks = long.TryParse(runAt, NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : enqueuedTicks;
        object job;
        if (string.IsNullOrEmpty(kind))
        {
            kind = "(none)";
            job = new UnreadableJob(kind, payload, "The stored job has no kind.", typeof(FormatException).FullName!);
        }
        else
        {
            job = _payloads.Read(kind, payload);
        }

        var record = new JobRecord(Guid.TryParseExact(id, "N", out var guid) ? new JobId(guid) : default, kind, queue, job, new DateTimeOffset(enqueuedTicks, TimeSpan.Zero))
        {
            IdempotencyKey = string.IsNullOrEmpty(key) ? null : key,
            MaxAttempts = int.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : null,
            NotBefore = runAtTicks != enqueuedTicks ? new DateTimeOffset(runAtTicks, TimeSpan.Zero) : null,
            Attempt = int.TryParse(attempt, NumberStyles.Integer, CultureInfo.InvariantCulture, out var a) ? a : 0,
            TraceParent = string.IsNullOrEmpty(traceParent) ? null : traceParent,
            TraceState = string.IsNullOrEmpty(traceState) ? null : traceState,
            Priority = int.TryParse(priority, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && Enum.IsDefined((JobPriority)p) ? (JobPriority)p : JobPriority.Normal,
            StoreData = storeData,
            ParentIds = string.IsNullOrEmpty(parents) ? null : Array.ConvertAll(parents.Split(','), ParseId),
            OnParentFailure = onParentFailure == "1" ? ParentFailureAction.DeadLetter : ParentFailureAction.Cancel,
        };
        foreach (var error in JobPayloads.DeserializeErrors(errors))
        {
            record.AddError(error);
        }

        return record;
    }

    private async Task HeartbeatLoopAsync()
    {
        var stopping = _stopping.Token;
        var next = _time.GetUtcNow() + _options.HeartbeatInterval;
        while (!stopping.IsCancellationRequested)
        {
            await SleepUntilAsync(next, Task.Delay(Timeout.Infinite, stopping), stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            next = _time.GetUtcNow() + _options.HeartbeatInterval;

            foreach (var group in _held.Values.GroupBy(job => ((RedisLease)job.StoreData!).Queue))
            {
                try
                {
                    await HeartbeatAsync(group.Key, [.. group]).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A loop of the store must outlive any failure (an outage, a damaged reply): it logs and tries again.
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    RedisLog.OperationFailed(_logger, ex, "extend leases", group.Key.Name);
                }
            }
        }
    }

    /// <summary>Extends the leases of one queue's held jobs; a lease found lost (taken over elsewhere) is forgotten; a cancel requested elsewhere reaches its record.</summary>
    private async Task HeartbeatAsync(RedisQueue queue, List<JobRecord> jobs)
    {
        foreach (var chunk in jobs.Chunk(500))
        {
            var expires = NowMs + Ms(_options.LeaseDuration);
            var values = new RedisValue[1 + (chunk.Length * 2)];
            values[0] = expires;
            for (var i = 0; i < chunk.Length; i++)
            {
                var lease = (RedisLease)chunk[i].StoreData!;
                values[1 + (i * 2)] = lease.Id;
                values[2 + (i * 2)] = lease.Token;
            }

            var reply = (RedisResult[])(await RunAsync(RedisScripts.Heartbeat, queue, values).ConfigureAwait(false))!;
            for (var i = 0; i < chunk.Length; i++)
            {
                var job = chunk[i];
                switch ((int)reply[i])
                {
                    case 0:
                        Forget(job);
                        break;
                    case 2:
                        job.LeaseExpiresAt = FromMs(expires);
                        job.RequestCancellation();
                        break;
                    default:
                        job.LeaseExpiresAt = FromMs(expires);
                        break;
                }
            }
        }
    }

    /// <summary>Forgets a job this process no longer holds (settled, or its lease lost); an isolated one frees the place for the next.</summary>
    private void Forget(JobRecord job)
    {
        var lease = (RedisLease)job.StoreData!;
        if (_held.TryRemove(new KeyValuePair<string, JobRecord>(lease.Id, job)) && ReferenceEquals(Interlocked.CompareExchange(ref _isolatedJob, null, job), job))
        {
            Volatile.Write(ref _isolatedHeld, 0);
            foreach (var queue in _queueList)
            {
                queue.Wake.Set();
            }
        }
    }
}
