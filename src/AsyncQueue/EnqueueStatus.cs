namespace AsyncQueue;

/// <summary>What happened to an enqueued job.</summary>
public enum EnqueueStatus
{
    /// <summary>The job was accepted and will run, retry or land in a dead-letter queue.</summary>
    Accepted = 0,

    /// <summary>A job with the same idempotency key is waiting, running or recently succeeded; this one was not enqueued, and the result carries the original job's id.</summary>
    Duplicate = 1,
}
