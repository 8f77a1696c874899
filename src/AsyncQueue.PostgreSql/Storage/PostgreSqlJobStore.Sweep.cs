using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// The sweeper: rescues expired leases, frees expired idempotency keys, evicts old dead letters. One process sweeps at a
/// time (a transaction-level advisory lock held for the whole sweep); the others skip their turn, and if the sweeping
/// process dies its connection closes and the lock is free for the next.
/// </summary>
internal sealed partial class PostgreSqlJobStore
{
    private const int SweepBatch = 256;

    private void RunSweep()
    {
        if (Interlocked.Exchange(ref _sweepRunning, 1) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await SweepAsync(_stopping.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failed sweep is tried again at the next interval.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!_stopping.IsCancellationRequested)
                {
                    PostgreSqlLog.BackgroundFailed(_logger, ex, "sweep");
                }
            }
            finally
            {
                Volatile.Write(ref _sweepRunning, 0);
            }
        });
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

        while (await RescueExpiredLeasesAsync(cancellationToken).ConfigureAwait(false) == SweepBatch)
        {
        }

        var now = _time.GetUtcNow().UtcTicks;
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        while (await DeleteBatchAsync(new NpgsqlCommand(_sql.EvictExpiredKeys, connection).Long("now", now)).ConfigureAwait(false) == SweepBatch)
        {
        }

        while (await DeleteBatchAsync(new NpgsqlCommand(_sql.EvictOldestKeys, connection).Long("max", _options.MaxRetainedKeys)).ConfigureAwait(false) == SweepBatch)
        {
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
    /// Every lease that expired without a heartbeat belongs to a process that crashed, was killed or stalled: its
    /// attempt counts as failed, and the job runs again or, with its attempts spent, is dead-lettered. A job this very
    /// process still holds is alive (its heartbeat was only late), so its lease is extended instead. Rows are locked
    /// with SKIP LOCKED, so the sweepers of several processes share the work instead of waiting for each other.
    /// </summary>
    private async Task<int> RescueExpiredLeasesAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var expired = new List<(StoredJobRow Row, string Queue, long Token, long Expired)>();
        using (var command = new NpgsqlCommand(_sql.ExpiredLeases, connection, transaction).Long("now", now.UtcTicks).Int("limit", SweepBatch))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var row = new StoredJobRow(
                    reader.GetInt64(0),
                    reader.GetGuid(1),
                    reader.GetString(3),
                    null,
                    reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetInt32(5),
                    reader.GetInt64(6),
                    reader.GetInt64(6),
                    StoredJobRow.StringOrNull(reader, 7),
                    StoredJobRow.StringOrNull(reader, 8),
                    StoredJobRow.StringOrNull(reader, 11),
                    StoredJobRow.StringOrNull(reader, 12));
                expired.Add((row, reader.GetString(2), reader.GetInt64(9), reader.GetInt64(10)));
            }
        }

        var after = new List<Action>();
        foreach (var (row, queue, token, expiredAt) in expired)
        {
            if (_held.TryGetValue(row.Seq, out var mine) && ((PostgreSqlLease)mine.StoreData!).Token == token)
            {
                using var extend = new NpgsqlCommand(_sql.Heartbeat, connection, transaction)
                    .Long("expires", AddTicks(now.UtcTicks, _options.LeaseDuration))
                    .Array("seqs", NpgsqlTypes.NpgsqlDbType.Bigint, new[] { row.Seq })
                    .Array("tokens", NpgsqlTypes.NpgsqlDbType.Bigint, new[] { token });
                await extend.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            var message = $"The process crashed or the lease expired: the lease of attempt {row.Attempt} ran out at {FromTicks(expiredAt):O} without a heartbeat, so the process running it crashed, was killed or stalled.";
            var error = new JobError(row.Attempt, now, typeof(JobLeaseExpiredException).FullName!, message, null);
            var decision = DecideAfterLeaseExpired(row.Kind, queue, row.Attempt, row.MaxAttempts, now, message);
            if (decision.ShouldRetry)
            {
                var errors = JobPayloads.DeserializeErrors(row.Errors);
                errors.Add(error);
                var runAt = decision.RunAt > now ? decision.RunAt : now;
                using var reschedule = new NpgsqlCommand(_sql.Reschedule, connection, transaction)
                    .Long("run_at", runAt.UtcTicks)
                    .Int("attempt", row.Attempt)
                    .Text("errors", JobPayloads.SerializeErrors(errors))
                    .Long("seq", row.Seq)
                    .Long("token", token);
                await reschedule.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                after.Add(() => PostgreSqlLog.LeaseRescued(_logger, new JobId(row.Id), row.Kind, queue, row.Attempt, runAt));
                continue;
            }

            var (_, payload) = await TakeLeasedAsync(connection, transaction, row.Seq, token, cancellationToken).ConfigureAwait(false);
            var job = _payloads.TryDeserialize(row.Kind, payload, out var reason, out _) ?? new UnreadableJob(row.Kind, payload, reason);
            var record = row.ToRecord(queue, job, storeData: null);
            record.AddError(error);
            var (entry, evicted) = await InsertDeadLetterAsync(connection, transaction, record, payload, TargetOf(queue), cancellationToken).ConfigureAwait(false);
            after.Add(() =>
            {
                ReportEvicted(entry.DeadLetterQueue, evicted);
                PostgreSqlLog.LeaseExpiredDeadLettered(_logger, record.Id, record.Kind, record.Queue, record.Attempt, entry.DeadLetterQueue);
                _notifier.Notify(entry);
            });
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var action in after)
        {
            action();
        }

        if (expired.Count > 0)
        {
            foreach (var queue in _queueList)
            {
                queue.Wake();
            }
        }

        return expired.Count;
    }
}
