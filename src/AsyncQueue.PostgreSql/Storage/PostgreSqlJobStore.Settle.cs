using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Settling an attempt, each write fenced by its lease: complete (group-committed), reschedule, dead-letter, cancel, and the start of an isolated job.</summary>
internal sealed partial class PostgreSqlJobStore
{
    /// <summary>How many times a completion statement runs before a deadlock or serialization failure fails its batch.</summary>
    private const int CompletionAttempts = 3;

    /// <summary>The most completions one statement records.</summary>
    private const int CompletionBatch = 1_000;

    /// <summary>
    /// The completions queued (not yet committed) past which the fetch loops lease nothing: two full statements
    /// waiting means the commits fall behind the workers, and leasing more would only grow the leased rows.
    /// </summary>
    private const int MaxQueuedCompletions = 2 * CompletionBatch;

    // Completions queued and not yet through their statement; and 1 while a fetch loop holds back for them (the
    // completion loop then wakes the loops once the backlog is under the bound). Set before the count is read, and the
    // count lowered before the flag is taken, so a loop that holds back either sees the lowered count or is woken.
    private int _queuedCompletions;
    private int _leasingHeldBack;

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
    /// unreachable) is logged, its lease expires and the job is rescued and runs again, as when the dispatcher is
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

        // The attempt is over: an isolated job's hold ends now, though its lease is extended until the commit.
        ReleaseIsolated(lease);

        // The row stays as succeeded for its status, and for its key's retention; with neither it simply goes.
        var now = _time.GetUtcNow().UtcTicks;
        var options = lease.Queue.Options;
        long? keyExpires = job.IdempotencyKey is not null && options.IdempotencyRetention > TimeSpan.Zero ? AddTicks(now, options.IdempotencyRetention) : null;
        var keep = keyExpires is not null || StoredJobStatus.KeepsStatus(options);
        var safe = _options.AsynchronousCompletions && AddTicks(now, _options.LeaseDuration / 2) < lease.Expires;
        var done = safe ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _queuedCompletions);
        if (!_completions.Writer.TryWrite(new PendingCompletion(job, lease, keep, keyExpires, now, job.Result, done)))
        {
            Interlocked.Decrement(ref _queuedCompletions);
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
            while (batch.Count < CompletionBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            try
            {
                var stored = await CompleteBatchAsync(batch).ConfigureAwait(false);

                // The batch statements leave a job with continuations alone: it completes in a transaction that releases them.
                foreach (var pending in batch)
                {
                    if (!stored.Contains(pending.Lease.Seq) && await CompleteParentAsync(pending).ConfigureAwait(false))
                    {
                        stored.Add(pending.Lease.Seq);
                    }
                }
                foreach (var pending in batch)
                {
                    if (stored.Contains(pending.Lease.Seq))
                    {
                        pending.Done?.TrySetResult();
                    }
                    else if (pending.Done is { } done)
                    {
                        // Fenced out: the lease expired and the job was rescued; a newer attempt owns it. The dispatcher
                        // awaits this one and logs it.
                        done.TrySetException(new JobLeaseLostException(pending.Job.Id, pending.Job.Attempt, "complete"));
                    }
                    else
                    {
                        // Nobody awaits this completion (it was queued while the lease was sure to hold, yet it was
                        // rescued, so the process stalled): say so here, once.
                        var job = pending.Job;
                        PostgreSqlLog.LeaseLost(_logger, job.Id, job.Kind, job.Queue, job.Attempt, "complete");
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
                    Forget(pending.Lease, pending.Job);
                }

                if (Interlocked.Add(ref _queuedCompletions, -batch.Count) < MaxQueuedCompletions && Interlocked.Exchange(ref _leasingHeldBack, 0) == 1)
                {
                    WakeAll();
                }
            }
        }
    }

    /// <summary>
    /// Whether the completions queued outrun their commits (more than <see cref="MaxQueuedCompletions"/> wait): then
    /// the fetch loops lease nothing until the completion loop catches up and wakes them. Back-pressure on leasing, so
    /// a slow completion statement (a busy server) bounds the rows left leased instead of letting them pile up.
    /// </summary>
    private bool CompletionsBehind()
    {
        if (Volatile.Read(ref _queuedCompletions) < MaxQueuedCompletions)
        {
            return false;
        }

        Interlocked.Exchange(ref _leasingHeldBack, 1);
        return Volatile.Read(ref _queuedCompletions) >= MaxQueuedCompletions;
    }

    private async Task<HashSet<long>> CompleteBatchAsync(List<PendingCompletion> batch)
    {
        var stored = new HashSet<long>();
        using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
        // Sorted by seq: the statements lock the rows in the arrays' order, which must be seq order (see PostgreSqlStatements).
        var kept = batch.Where(p => p.Keep).OrderBy(p => p.Lease.Seq).ToArray();
        if (kept.Length > 0)
        {
            using var keep = new NpgsqlCommand(_sql.CompleteKeep, connection)
                .Array("seqs", NpgsqlDbType.Bigint, kept.Select(p => p.Lease.Seq).ToArray())
                .Array("tokens", NpgsqlDbType.Bigint, kept.Select(p => p.Lease.Token).ToArray())
                .Array("key_expires", NpgsqlDbType.Bigint, kept.Select(p => p.KeyExpires).ToArray())
                .Array("finished_at", NpgsqlDbType.Bigint, kept.Select(p => p.FinishedAt).ToArray())
                .Array("result", NpgsqlDbType.Text, kept.Select(p => p.Result).ToArray());
            await ReadSeqsAsync(keep, stored).ConfigureAwait(false);
            OnKept(kept.Length);
        }

        var deleted = batch.Where(p => !p.Keep).OrderBy(p => p.Lease.Seq).ToArray();
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
                .Bool("isolated", job.Isolated)
                .Long("seq", lease.Seq)
                .Long("token", lease.Token);
            ThrowIfLost(await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1, job, "retry");
        }
        finally
        {
            Forget(lease, job);
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
            var failed = await SettleChildrenAsync(connection, transaction, job.Id, succeeded: false, _time.GetUtcNow().UtcTicks, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            WakeLocal(failed);
            ReportEvicted(target.Name, evicted);
            return entry;
        }
        finally
        {
            Forget(lease, job);
        }
    }

    public async ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        try
        {
            // Cancelled: its key is freed at once; the row stays for its status, if the queue keeps any. Its continuations
            // fail in the same transaction.
            var now = _time.GetUtcNow().UtcTicks;
            using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            using var command = StoredJobStatus.KeepsStatus(lease.Queue.Options)
                ? new NpgsqlCommand(_sql.MarkCancelled, connection, transaction)
                    .Text("errors", JobPayloads.SerializeErrors(job.Errors))
                    .Long("now", now)
                    .Long("seq", lease.Seq)
                    .Long("token", lease.Token)
                : new NpgsqlCommand(_sql.DeleteLeased, connection, transaction).Long("seq", lease.Seq).Long("token", lease.Token);
            ThrowIfLost(await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1, job, "cancel");
            var failed = await SettleChildrenAsync(connection, transaction, job.Id, succeeded: false, now, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            WakeLocal(failed);
        }
        finally
        {
            Forget(lease, job);
        }
    }

    public async ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.MarkStarted, connection).Long("seq", lease.Seq).Long("token", lease.Token);
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
        {
            return true;
        }

        // Rescued elsewhere meanwhile: the job must not start here, and is no longer this process's to settle.
        Forget(lease, job);
        return false;
    }

    /// <summary>Fenced out: the lease expired and the job was rescued; a newer attempt owns it, so this outcome is discarded. The dispatcher logs it.</summary>
    private static void ThrowIfLost(bool stored, JobRecord job, string operation)
    {
        if (!stored)
        {
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

    /// <summary>
    /// A success waiting for the completion loop: whether its row stays (for its status or its key; else it is deleted),
    /// when its idempotency key expires (none: the key is freed), when it finished and its result.
    /// </summary>
    /// <remarks><c>Done</c> is <see langword="null"/> when the worker did not wait (see <see cref="CompleteAsync"/>).</remarks>
    private readonly record struct PendingCompletion(JobRecord Job, PostgreSqlLease Lease, bool Keep, long? KeyExpires, long FinishedAt, string? Result, TaskCompletionSource? Done);
}
