namespace AsyncQueue.Storage;

/// <summary>What a store can promise beyond the contract every store keeps. Checked at start instead of throwing <see cref="NotSupportedException"/> later. For store implementations.</summary>
[Flags]
public enum JobStoreCapabilities
{
    /// <summary>Nothing beyond the contract every store keeps.</summary>
    None = 0,

    /// <summary>Accepted jobs survive a crash or restart of the process.</summary>
    Durable = 1,

    /// <summary>A job can be enqueued inside the caller's database transaction.</summary>
    TransactionalEnqueue = 2,

    /// <summary>
    /// The store enforces a queue's <see cref="QueueOptions.RateLimit"/> (one without a key) when it leases: in each
    /// window (<see cref="RateLimiting.JobRateLimit.WindowOf"/>) it leases at most <see cref="RateLimiting.JobRateLimit.Permits"/>
    /// of the queue's jobs, counted across every process that shares it, and leaves the rest waiting. Without this
    /// flag the dispatcher enforces the limit in each process.
    /// </summary>
    SharedRateLimits = 4,

    /// <summary>
    /// Continuations are kept by the store (<see cref="IJobStore.EnqueueContinuationAsync"/>): released, cancelled or
    /// failed in the same transaction that settles their parent, so the link survives a crash. A store without it that
    /// is not <see cref="Durable"/> gets the dispatcher's in-process continuations; a durable one refuses them.
    /// </summary>
    Continuations = 8,

    /// <summary>
    /// The store keeps idempotency keys (<see cref="JobRecord.IdempotencyKey"/>): an enqueue whose key a live job holds
    /// is answered <see cref="EnqueueStatus.Duplicate"/>, and the key is held for the queue's
    /// <see cref="QueueOptions.IdempotencyRetention"/> after the job succeeded. A store without it refuses an enqueue
    /// that has a key with <see cref="NotSupportedException"/> (a whole batch, before accepting any of it), rather
    /// than accept the job and ignore the key.
    /// </summary>
    IdempotencyKeys = 16,

    /// <summary>
    /// Due times, delays and retentions are measured on the <see cref="TimeProvider"/> the store was given, so a job
    /// scheduled for a time is handed out once that clock reaches it (a <c>FakeTimeProvider</c> moves it). A store
    /// without it (a broker) reads its clock once, when the job is scheduled, and the wait of the time left then, like a
    /// dead-letter queue's retention, runs on a clock of its own.
    /// </summary>
    InjectedClock = 32,

    /// <summary>
    /// The store answers for a job by its id: its status (<see cref="IJobStore.GetJobAsync"/>) and its cancel
    /// (<see cref="IJobStore.CancelAsync"/>). Without it (a broker keeps no index of its messages) the job queue refuses
    /// <see cref="Monitoring.IJobQueueMonitor.GetJobAsync"/> and <see cref="IJobQueue.CancelAsync"/> with
    /// <see cref="NotSupportedException"/> before it asks the store or touches a running job, and never answers as if the
    /// job were unknown.
    /// </summary>
    JobStatus = 64,

    /// <summary>
    /// The store keeps a queue's pause (<see cref="IJobStore.SetPausedAsync"/>), which every process that shares it
    /// obeys. Without it the job queue refuses <see cref="IJobQueue.PauseAsync"/> and <see cref="IJobQueue.ResumeAsync"/>
    /// with <see cref="NotSupportedException"/>, and <see cref="QueueCounts.Paused"/> is always <see langword="false"/>.
    /// </summary>
    Pause = 128,

    /// <summary>
    /// The store hands out the most urgent due job first (<see cref="JobRecord.Priority"/>), and jobs of one priority in
    /// the order they were enqueued. Without it a job's priority is accepted and ignored: jobs are handed out in the
    /// store's own order. (A priority only orders jobs that all run, so unlike an idempotency key it is not refused.)
    /// </summary>
    Priorities = 256,

    /// <summary>
    /// The store's lease on a fetched job expires on its clock unless a heartbeat moves it on: it reports the expiry in
    /// <see cref="JobRecord.LeaseExpiresAt"/>, hands a job whose lease expired to
    /// <see cref="IJobStore.OpenExpiredLeaseConsumer"/> as the lost attempt (with <see cref="JobRecord.StartRecorded"/>),
    /// keeps <see cref="JobRecord.Isolated"/>, hands out one isolated job at a time, and records an isolated job's start
    /// (<see cref="IJobStore.MarkStartedAsync"/>); so a crash is charged only to the job whose start was recorded. A
    /// <see cref="Durable"/> store without it (a broker, whose lease is its delivery) holds a job for as long as the
    /// holder's connection lives, whatever any clock says: <see cref="JobRecord.LeaseExpiresAt"/> stays unset, a lost
    /// connection (a crash) puts the job back, and the store hands it out again through <see cref="IJobStore.OpenConsumer"/>
    /// with the crashed attempt counted (a <see cref="JobLeaseExpiredException"/> error), whether or not it had started,
    /// and fences out the lost holder's late outcome. Its expired-lease consumer hands nothing out, so the dispatcher,
    /// which isolates only the jobs that consumer rescues, never isolates a job on it, and it need not keep
    /// <see cref="JobRecord.Isolated"/>: a job handed back with it set is handed out as any other.
    /// </summary>
    ExpiringLeases = 512,
}
