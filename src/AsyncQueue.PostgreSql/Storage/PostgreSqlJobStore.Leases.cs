using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Leases with fencing: the fetch loop, settling an attempt, heartbeats.</summary>
internal sealed partial class PostgreSqlJobStore
{
    /// <summary>How many times a completion statement runs before a deadlock or serialization failure fails its batch.</summary>
    private const int CompletionAttempts = 3;

    /// <summary>
    /// One per queue: leases as many due jobs as this process's workers wait for or are about to ask for (those settling
    /// a job), plus <see cref="PostgreSqlStoreOptions.LeaseAhead"/>, less those already leased and untaken; then sleeps
    /// until woken, until the next delayed job falls due, or for the poll interval.
    /// </summary>
    /// <remarks>
    /// By default (<c>LeaseAhead</c> 0) leasing no further ahead than the workers keeps a crash from charging an attempt
    /// to jobs no worker had started, and leaves the other jobs to the other processes. A worker settling a job counts
    /// from the moment its completion is queued, not from its commit: the lease round trip then overlaps the
    /// completion's, and the leased job waits in the buffer at most until that worker's completion commits.
    /// </remarks>
    private async Task RunFetchLoopAsync(PostgreSqlQueue queue)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            // Taken before looking, so a wake-up that comes while the query runs is not lost.
            var wake = queue.WakeTask;
            var delay = Timeout.InfiniteTimeSpan;
            var demand = queue.Waiting + queue.TakeSettled() + _options.LeaseAhead - queue.Ready.Reader.Count;
            if (demand > 0)
            {
                try
                {
                    var wanted = Math.Min(demand, _options.FetchBatchSize);
                    var (leased, nextDue) = await LeaseAsync(queue, wanted, stopping).ConfigureAwait(false);
                    if (leased >= wanted)
                    {
                        continue;
                    }

                    delay = _options.PollInterval;
                    if (nextDue is long due)
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

    /// <summary>Leases up to <paramref name="limit"/> due jobs of a queue in one round trip; when fewer were due, also finds when the next one falls due.</summary>
    private async Task<(int Leased, long? NextDue)> LeaseAsync(PostgreSqlQueue queue, int limit, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var expires = AddTicks(now.UtcTicks, _options.LeaseDuration);
        var rows = new List<(StoredJobRow Row, long Token)>(limit);
        long? nextDue = null;
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using (var command = new NpgsqlCommand(_sql.Lease, connection)
            .Text("queue", queue.Name)
            .Long("now", now.UtcTicks)
            .Int("limit", limit)
            .Long("expires", expires))
        {
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((StoredJobRow.Read(reader), reader.GetInt64(12)));
            }
        }

        // RETURNING promises no order: hand the jobs out oldest due first, in enqueue order among equals.
        rows.Sort(static (a, b) => a.Row.RunAt != b.Row.RunAt ? a.Row.RunAt.CompareTo(b.Row.RunAt) : a.Row.Seq.CompareTo(b.Row.Seq));
        foreach (var (row, token) in rows)
        {
            var job = _payloads.TryDeserialize(row.Kind, row.Payload, out var reason, out var errorType);
            if (job is not null)
            {
                try
                {
                    var record = row.ToRecord(queue.Name, job, new PostgreSqlLease(this, queue, row.Seq, token) { Expires = expires });

                    // Held before a worker can take it, so the heartbeat covers it from the start.
                    _held[row.Seq] = record;
                    queue.Ready.Writer.TryWrite(record);
                    continue;
                }
                catch (ArgumentException ex)
                {
                    // A row a foreign writer damaged (an empty kind, say) must not stop the other jobs.
                    reason = $"The stored row cannot be read: {ex.Message}";
                    errorType = ex.GetType().FullName!;
                }
            }

            await DeadLetterUnreadableAsync(connection, row, queue, token, reason, errorType, cancellationToken).ConfigureAwait(false);
        }

        if (rows.Count < limit)
        {
            using var next = new NpgsqlCommand(_sql.NextDue, connection).Text("queue", queue.Name);
            nextDue = await next.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long?;
        }

        return (rows.Count, nextDue);
    }

    /// <summary>A row whose kind has no handler or whose payload does not deserialize: dead-lettered at once, never retried.</summary>
    private async Task DeadLetterUnreadableAsync(NpgsqlConnection connection, StoredJobRow row, PostgreSqlQueue queue, long token, string reason, string errorType, CancellationToken cancellationToken)
    {
        var kind = string.IsNullOrEmpty(row.Kind) ? "(none)" : row.Kind;
        var record = (row with { Kind = kind }).ToRecord(queue.Name, new UnreadableJob(kind, row.Payload, reason), storeData: null);
        record.AddError(new JobError(row.Attempt, _time.GetUtcNow(), errorType, reason, null));
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var (taken, _) = await TakeLeasedAsync(connection, transaction, row.Seq, token, cancellationToken).ConfigureAwait(false);
        if (!taken)
        {
            return;
        }

        var (entry, evicted) = await InsertDeadLetterAsync(connection, transaction, record, row.Payload, queue.DeadLetterTarget, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        ReportEvicted(entry.DeadLetterQueue, evicted);
        PostgreSqlLog.UnreadableDeadLettered(_logger, record.Id, record.Kind, record.Queue, entry.DeadLetterQueue, reason);
        _notifier.Notify(entry);
    }

    /// <summary>
    /// Records a success. Completions are group-committed: a loop takes every completion queued meanwhile and settles
    /// them in one or two statements (each row fenced by its own token), so many workers share one round trip.
    /// </summary>
    /// <remarks>
    /// <para>
    /// With <see cref="PostgreSqlStoreOptions.AsynchronousCompletions"/>, while this process's lease on the job is sure
    /// to be valid for at least half of <see cref="PostgreSqlStoreOptions.LeaseDuration"/> more (always, unless
    /// heartbeats failed or the process stalled), the completion is queued and the worker goes on without waiting for
    /// its commit: no other attempt can hold the job before the commit, so the fenced write cannot fail for a lost
    /// lease. This stays within the at-least-once promise (docs/delivery.md): if the process dies before the queued
    /// acknowledgement commits, the job was in flight and runs again, exactly as when it dies while waiting for the
    /// commit; the store's disposal commits whatever is queued. A completion that fails anyway (the server is
    /// unreachable) is logged, its lease expires and the job is rescued as a failed attempt, as when the dispatcher is
    /// told. A lease that may be close to expiry still waits for the commit, so a late attempt learns with a
    /// <see cref="JobLeaseLostException"/> that its outcome was discarded. The commit itself is as durable as any
    /// other: the server's <c>synchronous_commit</c> is never lowered.
    /// </para>
    /// <para>
    /// Without this, each worker waits one commit round trip per job, so a queue's throughput is bounded by its worker
    /// count divided by the commit latency, whatever the batching.
    /// </para>
    /// </remarks>
    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);

        // A key keeps refusing duplicates for the queue's retention; without one the row simply goes.
        var now = _time.GetUtcNow().UtcTicks;
        var retention = lease.Queue.Options.IdempotencyRetention;
        long? keyExpires = job.IdempotencyKey is not null && retention > TimeSpan.Zero ? AddTicks(now, retention) : null;
        var safe = _options.AsynchronousCompletions && AddTicks(now, _options.LeaseDuration / 2) < lease.Expires;
        var done = safe ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_completions.Writer.TryWrite(new PendingCompletion(job, lease, keyExpires, done)))
        {
            throw new ObjectDisposedException(nameof(PostgreSqlJobStore), "The PostgreSQL job store is closed.");
        }

        // The worker fetches as soon as this completes: lease its next job while the completion commits.
        lease.Queue.AddSettled(1);
        return done is null ? default : new ValueTask(done.Task);
    }

    private async Task RunCompletionLoopAsync()
    {
        var reader = _completions.Reader;
        var batch = new List<PendingCompletion>();
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 1_000 && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                var stored = await CompleteBatchAsync(batch).ConfigureAwait(false);
                foreach (var pending in batch)
                {
                    if (stored.Contains(pending.Lease.Seq))
                    {
                        pending.Done?.TrySetResult();
                    }
                    else
                    {
                        // Fenced out: the lease expired and the job was rescued; a newer attempt owns it.
                        var job = pending.Job;
                        PostgreSqlLog.LeaseLost(_logger, job.Id, job.Kind, job.Queue, job.Attempt, "complete");
                        pending.Done?.TrySetException(new JobLeaseLostException(job.Id, job.Attempt, "complete"));
                    }
                }
            }
#pragma warning disable CA1031 // The callers get the failure; an unrecorded success is rescued when its lease expires.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var waited = 0;
                foreach (var pending in batch)
                {
                    waited += pending.Done?.TrySetException(ex) == true ? 1 : 0;
                }

                if (waited < batch.Count)
                {
                    // Nobody waits for these: say so here. Their leases expire and they are rescued and run again.
                    PostgreSqlLog.BackgroundFailed(_logger, ex, "complete of " + (batch.Count - waited) + " job(s)");
                }
            }
            finally
            {
                foreach (var pending in batch)
                {
                    _held.TryRemove(new KeyValuePair<long, JobRecord>(pending.Lease.Seq, pending.Job));
                }
            }
        }
    }

    private async Task<HashSet<long>> CompleteBatchAsync(List<PendingCompletion> batch)
    {
        var stored = new HashSet<long>();
        using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        var retained = batch.Where(p => p.KeyExpires is not null).ToArray();
        if (retained.Length > 0)
        {
            using var retain = new NpgsqlCommand(_sql.CompleteRetainKeys, connection)
                .Array("seqs", NpgsqlDbType.Bigint, retained.Select(p => p.Lease.Seq).ToArray())
                .Array("tokens", NpgsqlDbType.Bigint, retained.Select(p => p.Lease.Token).ToArray())
                .Array("key_expires", NpgsqlDbType.Bigint, retained.Select(p => p.KeyExpires!.Value).ToArray());
            await ReadSeqsAsync(retain, stored).ConfigureAwait(false);
        }

        var deleted = batch.Where(p => !stored.Contains(p.Lease.Seq)).ToArray();
        if (deleted.Length > 0)
        {
            using var delete = new NpgsqlCommand(_sql.CompleteDeleteMany, connection)
                .Array("seqs", NpgsqlDbType.Bigint, deleted.Select(p => p.Lease.Seq).ToArray())
                .Array("tokens", NpgsqlDbType.Bigint, deleted.Select(p => p.Lease.Token).ToArray());
            await ReadSeqsAsync(delete, stored).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>
    /// Runs one completion statement and adds the seqs it settled. A statement chosen as a deadlock victim (40P01) or
    /// failing to serialize (40001) is run again, up to <see cref="CompletionAttempts"/> times in all, rather than
    /// failing the batch: the rows are locked in seq order so neither should happen, and a failed statement (its own
    /// implicit transaction) changed nothing, so running it again is safe.
    /// </summary>
    private static async Task ReadSeqsAsync(NpgsqlCommand command, HashSet<long> seqs)
    {
        for (var attempt = 1; ; attempt++)
        {
            // Rows read before a failure were rolled back with the statement: they count only once it succeeds.
            var settled = new List<long>();
            try
            {
                using var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
                while (await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    settled.Add(reader.GetInt64(0));
                }

                seqs.UnionWith(settled);
                return;
            }
            catch (PostgresException ex) when (attempt < CompletionAttempts && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
            }
        }
    }

    public async ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        try
        {
            using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var command = new NpgsqlCommand(_sql.Reschedule, connection)
                .Long("run_at", runAt.UtcTicks)
                .Int("attempt", job.Attempt)
                .Text("errors", JobPayloads.SerializeErrors(job.Errors))
                .Long("seq", lease.Seq)
                .Long("token", lease.Token);
            ThrowIfLost(await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1, job, "retry");
        }
        finally
        {
            _held.TryRemove(new KeyValuePair<long, JobRecord>(lease.Seq, job));
        }

        lease.Queue.Wake();
    }

    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var lease = LeaseOf(job);
        try
        {
            using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var (taken, payload) = await TakeLeasedAsync(connection, transaction, lease.Seq, lease.Token, cancellationToken).ConfigureAwait(false);
            ThrowIfLost(taken, job, "dead-letter");
            var (entry, evicted) = await InsertDeadLetterAsync(connection, transaction, job, payload, target, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            ReportEvicted(target.Name, evicted);
            return entry;
        }
        finally
        {
            _held.TryRemove(new KeyValuePair<long, JobRecord>(lease.Seq, job));
        }
    }

    private void ThrowIfLost(bool stored, JobRecord job, string operation)
    {
        if (!stored)
        {
            // Fenced out: the lease expired and the job was rescued; a newer attempt owns it, so this outcome is discarded.
            PostgreSqlLog.LeaseLost(_logger, job.Id, job.Kind, job.Queue, job.Attempt, operation);
            throw new JobLeaseLostException(job.Id, job.Attempt, operation);
        }
    }

    private async Task<(bool Taken, string? Payload)> TakeLeasedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long seq, long token, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(_sql.TakeLeased, connection, transaction).Long("seq", seq).Long("token", token);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return (false, null);
        }

        return (true, reader.IsDBNull(0) ? null : reader.GetString(0));
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
                var held = _held.ToArray();
                var seqs = held.Select(h => h.Key).ToArray();
                var tokens = held.Select(h => ((PostgreSqlLease)h.Value.StoreData!).Token).ToArray();
                var extended = new HashSet<long>();
                var expires = AddTicks(_time.GetUtcNow().UtcTicks, _options.LeaseDuration);
                using var connection = await _dataSource.OpenConnectionAsync(_stopping.Token).ConfigureAwait(false);
                using var command = new NpgsqlCommand(_sql.Heartbeat, connection)
                    .Long("expires", expires)
                    .Array("seqs", NpgsqlDbType.Bigint, seqs)
                    .Array("tokens", NpgsqlDbType.Bigint, tokens);
                using (var reader = await command.ExecuteReaderAsync(_stopping.Token).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(_stopping.Token).ConfigureAwait(false))
                    {
                        extended.Add(reader.GetInt64(0));
                    }
                }

                foreach (var pair in held)
                {
                    if (extended.Contains(pair.Key))
                    {
                        ((PostgreSqlLease)pair.Value.StoreData!).Expires = expires;
                    }
                    else
                    {
                        _held.TryRemove(pair);
                    }
                }
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

    /// <summary>
    /// How a job whose attempt's lease expired goes on: the attempt counts as failed. <see cref="JobRecord.MaxAttempts"/>
    /// always caps it. The built-in <see cref="RetryPolicy"/> gives its limit and backoff (not its exception filter:
    /// a crash is not the handler's exception); a custom policy decides from a <see cref="JobLeaseExpiredException"/>.
    /// </summary>
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

    /// <summary>A success waiting for the completion loop, with when its idempotency key expires (none: the row is deleted).</summary>
    /// <remarks><c>Done</c> is <see langword="null"/> when the worker did not wait (see <see cref="CompleteAsync"/>).</remarks>
    private readonly record struct PendingCompletion(JobRecord Job, PostgreSqlLease Lease, long? KeyExpires, TaskCompletionSource? Done);
}
