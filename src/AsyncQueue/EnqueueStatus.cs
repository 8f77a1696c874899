namespace AsyncQueue;

/// <summary>What happened to an enqueued job.</summary>
public enum EnqueueStatus
{
    /// <summary>The job was accepted and will run, retry or land in a dead-letter queue.</summary>
    Accepted = 0,
}
