using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>Settling an attempt, each write fenced by its lease token: complete, reschedule, dead-letter, cancel, and the recorded start.</summary>
internal sealed partial class SqliteJobStore
{
    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken) =>
        new(Post(new SettleOp(this, SettleKind.Complete, job, LeaseOf(job))).Task);

    public ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken) =>
        new(Post(new SettleOp(this, SettleKind.Reschedule, job, LeaseOf(job)) { RunAt = runAt }).Task);

    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var entry = await Post(new SettleOp(this, SettleKind.DeadLetter, job, LeaseOf(job)) { Target = target }).Task.ConfigureAwait(false);
        return entry!;
    }

    public ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken) =>
        new(Post(new SettleOp(this, SettleKind.Cancel, job, LeaseOf(job))).Task);

    public ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        return RunAsync("mark started", cycle =>
        {
            if (_sql.MarkStarted.Execute(lease.Seq, lease.Token) == 1)
            {
                return true;
            }

            // The lease was lost: the job is not this process's any more, and is not settled by it.
            ReleaseHold(lease, job, cycle);
            return false;
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
                // The row stays as succeeded for its status, and for its key's retention; with neither it simply goes.
                var options = lease.Queue.Options;
                long? keyExpires = job.IdempotencyKey is not null && options.IdempotencyRetention > TimeSpan.Zero
                    ? AddTicks(cycle.NowTicks, options.IdempotencyRetention)
                    : null;
                stored = keyExpires is not null || StoredJobStatus.KeepsStatus(options)
                    ? _sql.CompleteKeep.Execute(cycle.NowTicks, job.Result, keyExpires, lease.Seq, lease.Token) == 1
                    : _sql.CompleteDelete.Execute(lease.Seq, lease.Token) == 1;
                break;
            case SettleKind.Cancel:
                // Cancelled: its key is freed at once; the row stays for its status, if the queue keeps any.
                stored = StoredJobStatus.KeepsStatus(lease.Queue.Options)
                    ? _sql.MarkCancelled.Execute(JobPayloads.SerializeErrors(job.Errors), cycle.NowTicks, lease.Seq, lease.Token) == 1
                    : _sql.CompleteDelete.Execute(lease.Seq, lease.Token) == 1;
                break;
            case SettleKind.Reschedule:
                stored = _sql.Reschedule.Execute(op.RunAt.UtcTicks, job.Attempt, JobPayloads.SerializeErrors(job.Errors), job.Isolated ? 1 : 0, lease.Seq, lease.Token) == 1;
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

        // The parent's continuations move in this same transaction, so a crash cannot separate them from its outcome.
        if (stored)
        {
            switch (op.Kind)
            {
                case SettleKind.Complete:
                    _sql.ReleaseChildren.Execute(job.Id.Value, cycle.NowTicks);
                    break;
                case SettleKind.Cancel or SettleKind.DeadLetter:
                    _sql.FailChildren.Execute(job.Id.Value, cycle.NowTicks);
                    break;
            }
        }

        // A worker that settles fetches next, so the lease step leases for it now; a hand-back or a rescue settles for no worker.
        if (op.Kind != SettleKind.Release && !lease.TakenOver)
        {
            cycle.Settled[lease.Queue.Index]++;
        }

        ReleaseHold(lease, job, cycle);
        if (stored || op.Kind == SettleKind.Release)
        {
            op.Succeed(entry);
            return;
        }

        // Fenced out: the lease expired and the job was taken over; a newer lease owns it, so this outcome is
        // discarded. The dispatcher logs it; the store only says so.
        op.LostLease(new JobLeaseLostException(job.Id, job.Attempt, op.Name));
    }

    /// <summary>The job is no longer this process's to hold: settled, or its lease lost. An isolated one frees the place for the next.</summary>
    private void ReleaseHold(SqliteLease lease, JobRecord job, WriteCycle cycle)
    {
        if (ReferenceEquals(_isolatedHeld, job))
        {
            cycle.IsolatedReleased = true;
        }

        cycle.AfterCommit(() => Forget(lease.Seq, job));
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
}
