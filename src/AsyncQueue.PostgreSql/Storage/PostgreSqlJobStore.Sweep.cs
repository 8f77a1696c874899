using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// The sweeper: takes expired leases over for the rescue (<c>.Rescue.cs</c>), frees expired idempotency keys, deletes
/// finished jobs' statuses past their retention or their queue's capacity, evicts dead letters past their queue's
/// retention or capacity. One process sweeps at a time (a transaction-level advisory
/// lock held for the whole sweep); the others skip their turn, and if the sweeping process dies its connection closes
/// and the lock is free for the next.
/// </summary>
internal sealed partial class PostgreSqlJobStore
{
    private const int SweepBatch = 256;

    /// <summary>How many times a rescuing process tries for a sweeping turn another process holds, <see cref="SweepTurnPause"/> apart.</summary>
    private const int SweepTurnTries = 5;

    private static readonly TimeSpan SweepTurnPause = TimeSpan.FromMilliseconds(200);

    // Sweeps asked for and not yet started: a request that comes while a sweep runs makes it run once more, so a sweep
    // asked for by the timer just after the clock moved is never lost to one that read the clock before.
    private int _sweepRequests;

    // How many kept rows ask for a sweep: half the smallest status capacity of this process's queues, so the rows over
    // the capacity stay within half of it, and never fewer than a few delete statements' worth.
    private readonly int _sweepAfterKept;

    // Finished rows kept (statuses, retained keys) since the last sweep this process asked for; only the completion
    // loop writes it.
    private int _keptSinceSweep;

    /// <summary>
    /// Counts finished rows the completion loop kept, and asks for a sweep once they reach
    /// <see cref="_sweepAfterKept"/>. Why: a timer alone lets a busy queue pile up its finished rows between ticks (at
    /// 20,000 jobs/s, 100,000 rows in 5 s past a capacity of 10,000), and the sweep then deletes them in one burst that
    /// stalls leases and completions for seconds; swept by volume, the rows stay near the capacity and the deletes
    /// are spread evenly over the work, so the speed holds as the table grows.
    /// </summary>
    private void OnKept(int rows)
    {
        _keptSinceSweep += rows;
        if (_keptSinceSweep >= _sweepAfterKept)
        {
            _keptSinceSweep = 0;
            RunSweep();
        }
    }


    private static int KeptRowsPerSweep(IEnumerable<PostgreSqlQueue> queues) =>
        Math.Max(4 * SweepBatch, queues.Select(q => StoredJobStatus.Capacity(q.Options)).Where(c => c > 0).DefaultIfEmpty(QueueOptions.DurableFinishedJobCapacity).Min() / 2);

    private void RunSweep()
    {
        if (Interlocked.Increment(ref _sweepRequests) != 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            while (true)
            {
                var requests = Volatile.Read(ref _sweepRequests);
                try
                {
                    await SweepOrWaitTurnAsync(_stopping.Token).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A failed sweep is tried again at the next interval.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    if (_stopping.IsCancellationRequested)
                    {
                        return;
                    }

                    PostgreSqlLog.BackgroundFailed(_logger, ex, "sweep");
                }

                if (Interlocked.Add(ref _sweepRequests, -requests) == 0)
                {
                    return;
                }
            }
        });
    }

    /// <summary>
    /// Sweeps once. While another process holds the sweeping turn, a process whose dispatcher rescues tries again a few
    /// times, a moment apart: the other process may not rescue at all (one that only enqueues), or may have read its
    /// clock before the leases expired, and this process's timer may not tick again soon (or, on a test's fake clock,
    /// ever). The pause is real time, not the injected clock: it waits for a transaction to end, not for a job's time.
    /// </summary>
    private async Task SweepOrWaitTurnAsync(CancellationToken cancellationToken)
    {
        for (var turn = 1; !await SweepAsync(cancellationToken).ConfigureAwait(false) && turn < SweepTurnTries && Volatile.Read(ref _rescueOpen) != 0; turn++)
        {
            await Task.Delay(SweepTurnPause, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sweeps once, unless another process is sweeping; returns whether this one swept.</summary>
    internal async Task<bool> SweepAsync(CancellationToken cancellationToken)
    {
        using var leader = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var turn = await leader.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using (var command = new NpgsqlCommand(_sql.TrySweepLock, leader, turn).Text("schema", _options.Schema))
        {
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return false;
            }
        }

        while (await TakeOverExpiredAsync(cancellationToken).ConfigureAwait(false) == SweepBatch)
        {
        }

        var now = _time.GetUtcNow().UtcTicks;
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Keys first, so a row whose key was just freed goes with its status in the same sweep.
        while (await DeleteBatchAsync(new NpgsqlCommand(_sql.ReleaseExpiredKeys, connection).Long("now", now)).ConfigureAwait(false) == SweepBatch)
        {
        }

        while (await DeleteBatchAsync(new NpgsqlCommand(_sql.ReleaseOldestKeys, connection).Long("max", _options.MaxRetainedKeys)).ConfigureAwait(false) == SweepBatch)
        {
        }

        // The queues this process runs: it knows their options. A queue configured only elsewhere is swept there.
        foreach (var queue in _queueList)
        {
            var options = queue.Options;
            var cutoff = SubtractTicks(now, options.FinishedJobRetention);
            while (await DeleteBatchAsync(new NpgsqlCommand(_sql.DeleteExpiredStatuses, connection).Text("queue", queue.Name).Long("cutoff", cutoff)).ConfigureAwait(false) == SweepBatch)
            {
            }

            (long FinishedAt, long Seq)? boundary = null;
            using (var find = new NpgsqlCommand(_sql.StatusCapacityBoundary, connection).Text("queue", queue.Name).Int("capacity", StoredJobStatus.Capacity(options)))
            using (var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    boundary = (reader.GetInt64(0), reader.GetInt64(1));
                }
            }

            var evicted = 0;
            if (boundary is { } upTo)
            {
                int batch;
                do
                {
                    batch = await DeleteBatchAsync(new NpgsqlCommand(_sql.EvictStatusesUpTo, connection).Text("queue", queue.Name).Long("finished_at", upTo.FinishedAt).Long("seq", upTo.Seq)).ConfigureAwait(false);
                    evicted += batch;
                }
                while (batch == SweepBatch);
            }

            if (evicted > 0)
            {
                // Early: before their retention, so counted and logged (one line per queue and sweep).
                PostgreSqlLog.StatusesEvicted(_logger, evicted, queue.Name, StoredJobStatus.Capacity(options));
                _metrics.StatusEvictions.Add(evicted, PostgreSqlStoreMetrics.Destination(queue.Name));
            }
        }

        var targets = new List<DeadLetterTarget>();
        using (var names = new NpgsqlCommand(_sql.DeadLetterQueueNames, connection))
        using (var reader = await names.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                targets.Add(new DeadLetterTarget(reader.GetString(0), TimeSpan.FromTicks(reader.GetInt64(1)), reader.GetInt32(2)));
            }
        }

        foreach (var target in targets)
        {
            ReportEvicted(target.Name, await EvictDeadLettersAsync(connection, null, target, cancellationToken).ConfigureAwait(false));
        }

        // Ending the transaction releases the lock for the next sweep, of this process or another.
        await turn.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;

        async Task<int> DeleteBatchAsync(NpgsqlCommand command)
        {
            using (command)
            {
                return await command.Int("limit", SweepBatch).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Evicts a dead-letter queue's entries past its capacity (oldest first) or older than its retention, in batches of
    /// <see cref="SweepBatch"/>. Inside the caller's <paramref name="transaction"/> (a new dead letter) one batch of each;
    /// the sweeper, without one, repeats each until a batch comes back short.
    /// </summary>
    private async Task<List<(Guid Id, string Kind, string Reason)>?> EvictDeadLettersAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        List<(Guid Id, string Kind, string Reason)>? evicted = null;
        var overCapacity = $"the dead-letter queue holds more than its capacity of {target.Capacity}";
        while (await EvictBatchAsync(new NpgsqlCommand(_sql.EvictOverCapacity, connection, transaction).Text("dlq", target.Name).Int("capacity", target.Capacity), overCapacity).ConfigureAwait(false) == SweepBatch && transaction is null)
        {
        }

        var cutoff = SubtractTicks(_time.GetUtcNow().UtcTicks, target.Retention);
        var tooOld = $"older than the retention of {target.Retention}";
        while (await EvictBatchAsync(new NpgsqlCommand(_sql.EvictOlderThan, connection, transaction).Text("dlq", target.Name).Long("cutoff", cutoff), tooOld).ConfigureAwait(false) == SweepBatch && transaction is null)
        {
        }

        return evicted;

        async Task<int> EvictBatchAsync(NpgsqlCommand command, string reason)
        {
            var count = 0;
            using (command)
            using (var reader = await command.Int("limit", SweepBatch).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    (evicted ??= []).Add((reader.GetGuid(0), reader.GetString(1), reason));
                    count++;
                }
            }

            return count;
        }
    }

    private async Task EvictStoredTargetAsync(NpgsqlConnection connection, string deadLetterQueue, CancellationToken cancellationToken)
    {
        DeadLetterTarget target;
        using (var command = new NpgsqlCommand(_sql.DeadLetterQueueTarget, connection).Text("name", deadLetterQueue))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            target = new DeadLetterTarget(deadLetterQueue, TimeSpan.FromTicks(reader.GetInt64(0)), reader.GetInt32(1));
        }

        ReportEvicted(deadLetterQueue, await EvictDeadLettersAsync(connection, null, target, cancellationToken).ConfigureAwait(false));
    }

    private void ReportEvicted(string deadLetterQueue, List<(Guid Id, string Kind, string Reason)>? evicted)
    {
        foreach (var (id, kind, reason) in evicted ?? [])
        {
            PostgreSqlLog.DeadLetterEvicted(_logger, deadLetterQueue, new JobId(id), kind, reason);
        }
    }
}
