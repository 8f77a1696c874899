using AsyncQueue.Storage;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>A request to store new jobs of one queue, from <see cref="Start"/> on; it stores as many as the queue has room for.</summary>
internal sealed class EnqueueOp(SqliteJobStore store, SqliteQueue queue, IReadOnlyList<JobRecord> jobs, string[] payloads, int start, EnqueueResult[] results) : WriteOp<int>
{
    public override string Name => "enqueue";

    public SqliteQueue Queue => queue;

    public IReadOnlyList<JobRecord> Jobs => jobs;

    public string[] Payloads => payloads;

    public int Start => start;

    public EnqueueResult[] Results => results;

    public override void Execute(WriteCycle cycle) => store.ExecuteEnqueue(this, cycle);

    public void Stored(int end) => SetResult(end);

    public void Full(JobQueueFullException exception) => Refuse(exception);

    /// <summary>A continuation whose parent no job is: the request writes nothing.</summary>
    public new void Refuse(Exception refusal) => base.Refuse(refusal);
}
