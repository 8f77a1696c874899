using AsyncQueue.Storage;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>How an attempt ended, as the dispatcher reports it (or, for <see cref="Release"/>, a lease handed back unused).</summary>
internal enum SettleKind
{
    Complete,
    Reschedule,
    DeadLetter,
    Cancel,
    Release,
}

/// <summary>A request to record an attempt's outcome, fenced by its lease token.</summary>
internal sealed class SettleOp(SqliteJobStore store, SettleKind kind, JobRecord job, SqliteLease lease) : WriteOp<DeadLetterEntry?>
{
    private int _reported;

    public override string Name => kind switch
    {
        SettleKind.Complete => "complete",
        SettleKind.Reschedule => "reschedule",
        SettleKind.DeadLetter => "dead-letter",
        SettleKind.Cancel => "cancel",
        _ => "release",
    };

    public SettleKind Kind => kind;

    public JobRecord Job => job;

    public SqliteLease Lease => lease;

    /// <summary>Gets when a rescheduled job runs again, or when a completed one succeeded (the time it was reported).</summary>
    public DateTimeOffset RunAt { get; init; }

    public DeadLetterTarget? Target { get; init; }

    /// <summary>Gets a value indicating whether no worker waits for this completion (asynchronous completions): its end is reported to the store instead.</summary>
    public bool Detached { get; init; }

    public override void Commit()
    {
        base.Commit();
        if (Detached && Interlocked.Exchange(ref _reported, 1) == 0)
        {
            // Reading the exception observes it: no one else will.
            store.DetachedSettled(this, Task.Exception?.InnerException);
        }
    }

    public override void Fail(Exception exception)
    {
        base.Fail(exception);
        if (Detached && Interlocked.Exchange(ref _reported, 1) == 0)
        {
            _ = Task.Exception;
            store.DetachedSettled(this, exception);
        }
    }

    public override void Execute(WriteCycle cycle) => store.ExecuteSettle(this, cycle);

    public void Succeed(DeadLetterEntry? entry) => SetResult(entry);

    public void LostLease(JobLeaseLostException exception) => Refuse(exception);
}
