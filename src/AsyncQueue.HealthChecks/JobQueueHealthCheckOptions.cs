namespace AsyncQueue.HealthChecks;

/// <summary>Thresholds of the job queue's health check.</summary>
public class JobQueueHealthCheckOptions
{
    /// <summary>Gets or sets how many jobs may wait in one queue before the check reports degraded.</summary>
    /// <value>The default value is <see langword="null"/>: depth never degrades the check. Range: 0 or more.</value>
    public long? MaxQueueDepth { get; set; }

    /// <summary>Gets or sets how many jobs may be added to the dead-letter queues between two checks before the check reports degraded.</summary>
    /// <value>The default value is <see langword="null"/>: dead-letter growth never degrades the check. Range: 0 or more.</value>
    public long? MaxDeadLetterGrowth { get; set; }
}
