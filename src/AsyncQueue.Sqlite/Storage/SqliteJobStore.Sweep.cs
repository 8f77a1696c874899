using AsyncQueue.Sqlite.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>The sweeper: rescues expired leases, frees expired idempotency keys, evicts old dead letters.</summary>
internal sealed partial class SqliteJobStore
{
    private const int SweepBatch = 256;

    private void Sweep(WriteCycle cycle)
    {
        RescueExpiredLeases(cycle);

        _sql.EvictExpiredKeys.Execute(cycle.NowTicks);
        var retained = _sql.CountRetainedKeys.ScalarInt64();
        if (retained > _options.MaxRetainedKeys)
        {
            _sql.EvictOldestKeys.Execute(retained - _options.MaxRetainedKeys);
        }

        var deadLetterQueues = new List<(string Name, long Retention, int Capacity)>();
        using (var reader = _sql.DeadLetterQueueNames.Query())
        {
            while (reader.Read())
            {
                deadLetterQueues.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2)));
            }
        }

        foreach (var (name, retention, capacity) in deadLetterQueues)
        {
            EvictDeadLetters(cycle, name, TimeSpan.FromTicks(retention), capacity);
        }
    }

    /// <summary>
    /// Every lease that expired without a heartbeat belongs to a process that crashed, was killed or stalled: its
    /// attempt counts as failed, and the job runs again or, with its attempts spent, is dead-lettered. A job this very
    /// process still holds is alive (its heartbeat was only late), so its lease is extended instead.
    /// </summary>
    private void RescueExpiredLeases(WriteCycle cycle)
    {
        while (true)
        {
            var expired = new List<ExpiredLease>();
            using (var reader = _sql.ExpiredLeases.Query(cycle.NowTicks, SweepBatch))
            {
                while (reader.Read())
                {
                    expired.Add(new ExpiredLease(
                        new StoredJobRow(
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
                            StoredJobRow.StringOrNull(reader, 12)),
                        reader.GetString(2),
                        reader.GetInt64(9),
                        reader.GetInt64(10)));
                }
            }

            foreach (var lease in expired)
            {
                Rescue(lease, cycle);
            }

            if (expired.Count < SweepBatch)
            {
                return;
            }
        }
    }

    private void Rescue(ExpiredLease expired, WriteCycle cycle)
    {
        var row = expired.Row;
        if (_held.TryGetValue(row.Seq, out var mine) && ((SqliteLease)mine.StoreData!).Token == expired.Token)
        {
            _sql.Heartbeat.Execute(AddTicks(cycle.NowTicks, _options.LeaseDuration), row.Seq, expired.Token);
            return;
        }

        var message = $"The process crashed or the lease expired: the lease of attempt {row.Attempt} ran out at {FromTicks(expired.Expired):O} without a heartbeat, so the process running it crashed, was killed or stalled.";
        var error = new JobError(row.Attempt, cycle.Now, typeof(JobLeaseExpiredException).FullName!, message, null);
        var decision = DecideAfterLeaseExpired(row.Kind, expired.Queue, row.Attempt, row.MaxAttempts, cycle.Now, message);
        if (decision.ShouldRetry)
        {
            var errors = JobPayloads.DeserializeErrors(row.Errors);
            errors.Add(error);
            var runAt = decision.RunAt > cycle.Now ? decision.RunAt : cycle.Now;
            _sql.Reschedule.Execute(runAt.UtcTicks, row.Attempt, JobPayloads.SerializeErrors(errors), row.Seq, expired.Token);
            cycle.AfterCommit(() =>
            {
                SqliteLog.LeaseRescued(_logger, new JobId(row.Id), row.Kind, expired.Queue, row.Attempt, runAt);
                _metrics.LeasesRescued.Add(1, SqliteStoreMetrics.Destination(expired.Queue));
            });
            return;
        }

        TakeLeased(row.Seq, expired.Token, out var payload);
        var job = _payloads.TryDeserialize(row.Kind, payload, out var reason, out _) ?? new UnreadableJob(row.Kind, payload, reason);
        var record = row.ToRecord(expired.Queue, job, storeData: null);
        record.AddError(error);
        var entry = InsertDeadLetter(cycle, record, payload, TargetOf(expired.Queue));
        cycle.AfterCommit(() =>
        {
            SqliteLog.LeaseExpiredDeadLettered(_logger, record.Id, record.Kind, record.Queue, record.Attempt, entry.DeadLetterQueue);
            _metrics.LeasesRescued.Add(1, SqliteStoreMetrics.Destination(expired.Queue));
            _notifier.Notify(entry);
        });
    }

    /// <summary>A leased row whose lease ran out: the job, its queue, the lapsed token and when it lapsed.</summary>
    private readonly record struct ExpiredLease(StoredJobRow Row, string Queue, long Token, long Expired);
}
