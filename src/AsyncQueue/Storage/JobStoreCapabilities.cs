namespace AsyncQueue.Storage;

/// <summary>What a store can promise beyond the contract every store keeps. Checked at start instead of throwing <see cref="NotSupportedException"/> later. For store implementations.</summary>
[Flags]
public enum JobStoreCapabilities
{
    /// <summary>Nothing beyond the contract: jobs live in this process and are lost with it.</summary>
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
}
