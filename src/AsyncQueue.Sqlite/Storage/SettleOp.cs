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

    public DateTimeOffset RunAt { get; init; }

    public DeadLetterTarget? Target { get; init; }

    public override void Execute(WriteCycle cycle) => store.ExecuteSettle(this, cycle);

    public void Succeed(DeadLetterEntry? entry) => SetResult(entry);

    public void LostLease(JobLeaseLostException exception) => Refuse(exception);
}
