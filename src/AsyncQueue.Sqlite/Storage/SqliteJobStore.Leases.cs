using AsyncQueue.Retry;
using AsyncQueue.Sqlite.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>Leases with fencing: the lease step, settling an attempt, heartbeats.</summary>
internal sealed partial class SqliteJobStore
{
    /// <summary>
    /// Leases, for each queue, as many due jobs as this process's workers are about to take: those waiting in a fetch,
    /// plus one for each job settled in this cycle (its worker fetches next), less what is already leased and untaken.
    /// One query per queue leases them all, oldest due first.
    /// </summary>
    /// <remarks>
    /// Leasing no further ahead than that keeps a crash from charging an attempt to jobs that no worker had started:
    /// a leased job waits in the Ready channel only for the moment between a settle and the worker's next fetch.
    /// </remarks>
    private void LeaseForDemand(WriteCycle cycle)
    {
        if (_closing)
        {
            return;
        }

        foreach (var queue in _queueList)
        {
            var demand = queue.Waiting + cycle.Settled[queue.Index] - queue.Ready.Reader.Count;
            while (demand > 0)
            {
                var wanted = Math.Min(demand, _options.FetchBatchSize);
                var (rows, usable) = LeaseRows(queue, wanted, cycle);
                demand -= usable;
                if (rows < wanted)
                {
                    break;
                }
            }
        }
    }

    private (int Rows, int Usable) LeaseRows(SqliteQueue queue, int limit, WriteCycle cycle)
    {
        var token = cycle.Fence(_sql);
        var rows = new List<StoredJobRow>(limit);
        using (var reader = _sql.Lease.Query(token, AddTicks(cycle.NowTicks, _options.LeaseDuration), queue.Name, cycle.NowTicks, limit))
        {
            while (reader.Read())
            {
                rows.Add(StoredJobRow.Read(reader));
            }
        }

        // RETURNING promises no order: hand the jobs out oldest due first, in enqueue order among equals.
        rows.Sort(static (a, b) => a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt) : a.Seq.CompareTo(b.Seq));
        var ready = new List<JobRecord>(rows.Count);
        foreach (var row in rows)
        {
            var job = _payloads.TryDeserialize(row.Kind, row.Payload, out var reason, out var errorType);
            if (job is not null)
            {
                try
                {
                    ready.Add(row.ToRecord(queue.Name, job, new SqliteLease(this, queue, row.Seq, token)));
                    continue;
                }
                catch (ArgumentException ex)
                {
                    // A row a foreign writer damaged (an empty kind, say) must not stop the lease step for every other job.
                    reason = $"The stored row cannot be read: {ex.Message}";
                    errorType = ex.GetType().FullName!;
                }
            }

            DeadLetterUnreadable(row, queue, token, reason, errorType, cycle);
        }

        if (rows.Count > 0)
        {
            cycle.AfterCommit(() =>
            {
                foreach (var record in ready)
                {
                    // Held before a worker can take it, so the heartbeat covers it from the start.
                    _held[((SqliteLease)record.StoreData!).Seq] = record;
                    queue.Ready.Writer.TryWrite(record);
                }

                queue.SignalRoomFreed();
            });
        }

        return (rows.Count, ready.Count);
    }

    /// <summary>A row whose kind has no handler or whose payload does not deserialize: dead-lettered at once, never retried.</summary>
    private void DeadLetterUnreadable(StoredJobRow row, SqliteQueue queue, long token, string reason, string errorType, WriteCycle cycle)
    {
        _sql.TakeLeased.Execute(row.Seq, token);
        var kind = string.IsNullOrEmpty(row.Kind) ? "(none)" : row.Kind;
        var record = (row with { Kind = kind }).ToRecord(queue.Name, new UnreadableJob(kind, row.Payload, reason), storeData: null);
        record.AddError(new JobError(row.Attempt, cycle.Now, errorType, reason, null));
        var entry = InsertDeadLetter(cycle, record, row.Payload, queue.DeadLetterTarget);
        cycle.AfterCommit(() =>
        {
            SqliteLog.UnreadableDeadLettered(_logger, record.Id, record.Kind, record.Queue, entry.DeadLetterQueue, reason);
            _metrics.Unreadable.Add(1, SqliteStoreMetrics.Destination(record.Queue));
            _notifier.Notify(entry);
        });
    }

    internal void ExecuteSettle(SettleOp op, WriteCycle cycle)
    {
        var lease = op.Lease;
        var job = op.Job;
        var stored = false;
        DeadLetterEntry? entry = null;
        switch (op.Kind)
        {
            case SettleKind.Complete:
                // A key keeps refusing duplicates for the queue's retention; without one the row simply goes.
                var retention = lease.Queue.Options.IdempotencyRetention;
                if (job.IdempotencyKey is not null && retention > TimeSpan.Zero)
                {
                    stored = _sql.CompleteRetainKey.Execute(AddTicks(cycle.NowTicks, retention), lease.Seq, lease.Token) == 1;
                }

                stored = stored || _sql.CompleteDelete.Execute(lease.Seq, lease.Token) == 1;
                break;
            case SettleKind.Reschedule:
                stored = _sql.Reschedule.Execute(op.RunAt.UtcTicks, job.Attempt, JobPayloads.SerializeErrors(job.Errors), lease.Seq, lease.Token) == 1;
                break;
            case SettleKind.DeadLetter:
                if (TakeLeased(lease.Seq, lease.Token, out var payload))
                {
                    entry = InsertDeadLetter(cycle, job, payload, op.Target!);
                    stored = true;
                }

                break;
            default:
                stored = _sql.Release.Execute(lease.Seq, lease.Token) == 1;
                break;
        }

        if (op.Kind != SettleKind.Release)
        {
            cycle.Settled[lease.Queue.Index]++;
        }

        cycle.AfterCommit(() => _held.TryRemove(new KeyValuePair<long, JobRecord>(lease.Seq, job)));
        if (stored || op.Kind == SettleKind.Release)
        {
            op.Succeed(entry);
            return;
        }

        // Fenced out: the lease expired and the job was rescued; a newer attempt owns it, so this outcome is discarded.
        op.LostLease(new JobLeaseLostException(job.Id, job.Attempt, op.Name));
        cycle.AfterCommit(() =>
        {
            SqliteLog.LeaseLost(_logger, job.Id, job.Kind, job.Queue, job.Attempt, op.Name);
            _metrics.LeasesLost.Add(1, SqliteStoreMetrics.Destination(job.Queue));
        });
    }

    private bool TakeLeased(long seq, long token, out string? payload)
    {
        using var reader = _sql.TakeLeased.Query(seq, token);
        if (!reader.Read())
        {
            payload = null;
            return false;
        }

        payload = reader.IsDBNull(0) ? null : reader.GetString(0);
        return true;
    }

    /// <summary>Extends the lease of every job this process holds; a lease found lost (rescued elsewhere) is forgotten.</summary>
    private void Heartbeat(WriteCycle cycle)
    {
        var expires = AddTicks(cycle.NowTicks, _options.LeaseDuration);
        List<KeyValuePair<long, JobRecord>>? lost = null;
        foreach (var held in _held)
        {
            var lease = (SqliteLease)held.Value.StoreData!;
            if (_sql.Heartbeat.Execute(expires, lease.Seq, lease.Token) == 0)
            {
                (lost ??= []).Add(held);
            }
        }

        if (lost is not null)
        {
            cycle.AfterCommit(() =>
            {
                foreach (var held in lost)
                {
                    _held.TryRemove(held);
                }
            });
        }
    }

    /// <summary>
    /// How a job whose attempt's lease expired goes on: the attempt counts as failed. <see cref="JobRecord.MaxAttempts"/>
    /// always caps it. The built-in <see cref="RetryPolicy"/> gives its limit and backoff (not its exception filter:
    /// a crash is not the handler's exception); a custom policy decides from a <see cref="JobLeaseExpiredException"/>.
    /// </summary>
    /// <remarks>Runs inside the writer's transaction: policies must not block, as <see cref="IRetryPolicy"/> already requires.</remarks>
    private RetryDecision DecideAfterLeaseExpired(string kind, string queue, int attempt, int? maxAttempts, DateTimeOffset now, string message)
    {
        if (maxAttempts is int max && attempt >= max)
        {
            return RetryDecision.GiveUp;
        }

        var policy = _jobOptions.Get(kind).Retry ?? OptionsOf(queue).Retry;
        if (policy is RetryPolicy builtIn)
        {
            return attempt >= (maxAttempts ?? (builtIn.MaxRetries + 1)) ? RetryDecision.GiveUp : RetryDecision.RetryAt(now + builtIn.GetDelay(attempt));
        }

        try
        {
            return policy.Decide(new RetryArguments(new JobLeaseExpiredException(message), attempt, maxAttempts, kind, queue, now));
        }
#pragma warning disable CA1031 // A broken custom policy must not crash-loop the job: it is dead-lettered.
        catch (Exception)
#pragma warning restore CA1031
        {
            return RetryDecision.GiveUp;
        }
    }
}
