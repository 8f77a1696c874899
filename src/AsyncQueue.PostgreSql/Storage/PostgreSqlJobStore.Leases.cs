using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Leases with fencing: the fetch loop, isolated jobs one at a time, heartbeats.</summary>
internal sealed partial class PostgreSqlJobStore
{
    /// <summary>Marks <see cref="_isolatedHold"/> while a fetch loop looks for an isolated job.</summary>
    private static readonly object LeasingIsolated = new();

    // The lease of the one isolated job this store holds, or null, or LeasingIsolated while a fetch loop looks for one.
    // A fetch loop takes the turn with a compare-and-swap from null, so the loops of two queues never lease two; settling
    // the job or losing its lease swaps that lease (its identity, not its row: the row may be leased again) back to null
    // and wakes every queue. The hold is set before the job is handed out, so it cannot be settled before it is set.
    private object? _isolatedHold;

    /// <summary>
    /// One per queue: leases as many due jobs as this process's workers wait for or are about to ask for (those settling
    /// a job), plus <see cref="PostgreSqlStoreOptions.LeaseAhead"/>, less those already leased and untaken; then sleeps
    /// until woken, until the next delayed job falls due, or for the poll interval.
    /// </summary>
    /// <remarks>
    /// A worker settling a job counts from the moment its completion is queued, not from its commit: the lease round
    /// trip then overlaps the completion's. While completions are queued faster than they commit (see
    /// <see cref="CompletionsBehind"/>), the loop leases nothing, so the rows leased and not yet recorded as done stay
    /// bounded instead of growing with the queue.
    /// </remarks>
    private async Task RunFetchLoopAsync(PostgreSqlQueue queue)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            // Taken before looking, so a wake-up that comes while the query runs is not lost.
            var wake = queue.WakeTask;
            var delay = Timeout.InfiniteTimeSpan;
            var demand = CompletionsBehind() ? 0 : Demand(queue);
            if (demand > 0)
            {
                try
                {
                    var wanted = Math.Min(demand, _options.FetchBatchSize);
                    var (leased, nextDue, paused) = await LeaseAsync(queue, wanted, stopping).ConfigureAwait(false);
                    if (leased >= wanted)
                    {
                        continue;
                    }

                    // Paused (here or by another process): what this process leased ahead goes back, and the loop polls
                    // for the resume (a resume anywhere also notifies).
                    delay = _options.PollInterval;
                    if (paused)
                    {
                        await HandBackUntakenAsync(queue, stopping).ConfigureAwait(false);
                    }
                    else if (nextDue is long due)
                    {
                        var untilDue = TimeSpan.FromTicks(Math.Max(0, due - _time.GetUtcNow().UtcTicks));
                        delay = untilDue < delay ? untilDue : delay;
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // The server may be restarting: the loop logs, waits a poll interval and leases again.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    PostgreSqlLog.BackgroundFailed(_logger, ex, "lease of queue '" + queue.Name + "'");
                    delay = _options.PollInterval;
                }
            }

            if (delay == TimeSpan.Zero)
            {
                continue;
            }

            using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var timer = Task.Delay(delay, _time, stopWaiting.Token);
            await Task.WhenAny(wake, timer).ConfigureAwait(false);
            await stopWaiting.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// How many jobs to lease for a queue: one for each waiting worker and each worker settling a job, plus what tops
    /// the leased and untaken jobs up to twice what the workers settled since the last lease (about what they take while
    /// the next lease is on its way), at most <see cref="PostgreSqlStoreOptions.LeaseAhead"/>.
    /// </summary>
    /// <remarks>
    /// The buffer grows with the workers' pace instead of being filled at once: fast jobs keep a worker from ever waiting
    /// for a round trip (the buffer doubles each round trip until it covers one), while a queue that was idle leases only
    /// for its waiting workers, so a more urgent job enqueued a moment later is not queued behind a full buffer. Each
    /// settled job asks for at least one lease, so a pause made by another process is seen at the next settle.
    /// </remarks>
    private int Demand(PostgreSqlQueue queue)
    {
        var settled = queue.TakeSettled();
        var ahead = (int)Math.Min(_options.LeaseAhead, 2L * settled);
        return queue.Waiting + settled + Math.Max(0, ahead - queue.Ready.Reader.Count);
    }

    /// <summary>
    /// Leases up to <paramref name="limit"/> due jobs of a queue in one round trip, one of them isolated at most, and only
    /// while this store holds no other (a queue with a shared rate limit: no more than its window has left, in a
    /// transaction with its counter); when fewer were due, also finds when the next one falls due (for a window used
    /// up, the next window's start at the earliest) and whether the queue is paused.
    /// </summary>
    private async Task<(int Leased, long? NextDue, bool Paused)> LeaseAsync(PostgreSqlQueue queue, int limit, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var expires = AddTicks(now.UtcTicks, _options.LeaseDuration);
        var rows = new List<(StoredJobRow Row, long Token, bool Isolated)>(limit);
        long? nextDue = null;
        long? windowEnds = null;
        var paused = false;
        var isolatedTurn = Interlocked.CompareExchange(ref _isolatedHold, LeasingIsolated, null) is null;
        try
        {
            using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

            // A queue-wide rate limit: the lease runs in a transaction that holds the queue's counter row, and leases no
            // more than the window has left. A queue without one leases in one statement, as ever.
            var rate = SharedLimit(queue);
            using var transaction = rate is null ? null : await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var window = rate?.WindowOf(now) ?? 0;
            var permits = rate is null ? limit : await TakePermitsAsync(connection, transaction!, queue, rate, window, cancellationToken).ConfigureAwait(false);
            if (permits > 0)
            {
                using var command = new NpgsqlCommand(_sql.Lease, connection, transaction)
                    .Text("queue", queue.Name)
                    .Long("now", now.UtcTicks)
                    .Int("limit", Math.Min(limit, permits))
                    .Long("expires", expires)
                    .Bool("isolated", isolatedTurn);
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add((StoredJobRow.ReadLeased(new NpgsqlRowReader(reader)), reader.GetInt64(12), reader.GetBoolean(13)));
                }
            }

            if (transaction is not null)
            {
                if (rows.Count > 0)
                {
                    await CountPermitsAsync(connection, transaction, queue, window, rows.Count, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

                // The window is used up: nothing more is leased before the next one starts (its start is the next due time).
                if (rows.Count >= permits)
                {
                    windowEnds = rate!.WindowStart(window + 1).UtcTicks;
                }
            }

            if (rows.Count < limit)
            {
                using var next = new NpgsqlCommand(_sql.NextDue, connection).Text("queue", queue.Name).Bool("isolated", isolatedTurn && !rows.Exists(r => r.Isolated));
                using var reader = await next.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                nextDue = reader.IsDBNull(0) ? null : reader.GetInt64(0);
                paused = reader.GetBoolean(1);
            }

            nextDue = windowEnds is long ends ? Math.Max(nextDue ?? ends, ends) : nextDue;
        }
        catch when (isolatedTurn)
        {
            // Whatever was leased stays leased until it expires and is rescued; the turn passes.
            Volatile.Write<object?>(ref _isolatedHold, null);
            throw;
        }

        // RETURNING promises no order: hand the jobs out most urgent first, then oldest due, in enqueue order among equals,
        // and the isolated job (leased only into room the batch left) last.
        rows.Sort(static (a, b) => a.Isolated != b.Isolated ? a.Isolated.CompareTo(b.Isolated)
            : a.Row.Priority != b.Row.Priority ? b.Row.Priority.CompareTo(a.Row.Priority)
            : a.Row.RunAt != b.Row.RunAt ? a.Row.RunAt.CompareTo(b.Row.RunAt)
            : a.Row.Seq.CompareTo(b.Row.Seq));
        var records = new List<JobRecord>(rows.Count);
        PostgreSqlLease? isolatedLease = null;
        foreach (var (row, token, isolated) in rows)
        {
            var lease = new PostgreSqlLease(this, queue, row.Seq, token);
            var record = ToRecord(row, queue.Name, lease);
            record.Isolated = isolated;
            isolatedLease = isolated ? lease : isolatedLease;

            // Held before a worker can take it, so the heartbeat covers it from the start.
            Hold(record, lease, expires);
            records.Add(record);
        }

        if (isolatedTurn)
        {
            Volatile.Write<object?>(ref _isolatedHold, isolatedLease);
        }

        foreach (var record in records)
        {
            queue.Ready.Writer.TryWrite(record);
        }

        return (rows.Count, nextDue, paused);
    }

    /// <summary>
    /// Hands back the jobs of a paused queue that this process leased for its workers and they have not taken (the
    /// <see cref="PostgreSqlStoreOptions.LeaseAhead"/> buffer): no attempt spent, so none starts while the queue is
    /// paused. A worker that took one a moment before runs it, as a job leased before the pause.
    /// </summary>
    private async Task HandBackUntakenAsync(PostgreSqlQueue queue, CancellationToken cancellationToken)
    {
        if (queue.Ready.Reader.Count == 0)
        {
            return;
        }

        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        while (queue.Ready.Reader.TryRead(out var job))
        {
            var lease = (PostgreSqlLease)job.StoreData!;
            try
            {
                using var command = new NpgsqlCommand(_sql.Release, connection).Long("seq", lease.Seq).Long("token", lease.Token);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Out of the buffer either way: a hand-back that failed leaves the lease to expire, and the job is rescued.
                Forget(lease, job);
            }
        }
    }

    /// <summary>
    /// The record of a leased row: its job, or an <see cref="UnreadableJob"/> when its kind has no registered type or its
    /// payload does not deserialize (the dispatcher dead-letters it), with the lease as its store data.
    /// </summary>
    private JobRecord ToRecord(StoredJobRow row, string queue, PostgreSqlLease lease)
    {
        var job = _payloads.TryDeserialize(row.Kind, row.Payload, out var reason, out var errorType);
        if (job is not null)
        {
            try
            {
                return row.ToRecord(queue, job, lease);
            }
            catch (ArgumentException ex)
            {
                // A row a foreign writer damaged (an empty kind, say) is still handed out, to be dead-lettered.
                reason = $"The stored row cannot be read: {ex.Message}";
                errorType = ex.GetType().FullName!;
            }
        }

        var kind = string.IsNullOrEmpty(row.Kind) ? "(none)" : row.Kind;
        return (row with { Kind = kind }).ToRecord(queue, new UnreadableJob(kind, row.Payload, reason, errorType), lease);
    }

    /// <summary>Ends the isolated hold, if <paramref name="lease"/> is the isolated job's, and wakes every queue to lease the next.</summary>
    private void ReleaseIsolated(PostgreSqlLease lease)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _isolatedHold, null, lease), lease))
        {
            WakeAll();
        }
    }

    /// <summary>Extends, in one statement, the lease of every job this process holds; a lease found lost (rescued elsewhere) is forgotten.</summary>
    private void RunHeartbeat()
    {
        if (_held.IsEmpty || Interlocked.Exchange(ref _heartbeatRunning, 1) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var expires = AddTicks(_time.GetUtcNow().UtcTicks, _options.LeaseDuration);
                using var connection = await _dataSource.OpenConnectionAsync(_stopping.Token).ConfigureAwait(false);
                await ExtendAsync(connection, _held.ToArray(), expires, _stopping.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failed heartbeat is tried again at the next interval; leases last several intervals.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!_stopping.IsCancellationRequested)
                {
                    PostgreSqlLog.BackgroundFailed(_logger, ex, "heartbeat");
                }
            }
            finally
            {
                Volatile.Write(ref _heartbeatRunning, 0);
            }
        });
    }
}
