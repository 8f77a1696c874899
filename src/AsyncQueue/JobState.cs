namespace AsyncQueue;

/// <summary>Where a job is in its life, as <see cref="Monitoring.IJobQueueMonitor.GetJobAsync"/> reports it.</summary>
public enum JobState
{
    /// <summary>Accepted, and waiting for its time (<see cref="EnqueueOptions.Delay"/> or <see cref="EnqueueOptions.NotBefore"/>).</summary>
    Scheduled,

    /// <summary>Due, and waiting for a worker.</summary>
    Waiting,

    /// <summary>A worker runs it now.</summary>
    Running,

    /// <summary>An attempt failed, and the job waits for its retry's time.</summary>
    Retrying,

    /// <summary>Its handler succeeded. Kept for the queue's <see cref="QueueOptions.FinishedJobRetention"/>.</summary>
    Succeeded,

    /// <summary>It failed for good and is held in a dead-letter queue (see <see cref="IDeadLetterQueue"/>).</summary>
    DeadLettered,

    /// <summary>It was cancelled by <see cref="IJobQueue.CancelAsync"/>: never retried, never dead-lettered. Kept like a succeeded job.</summary>
    Cancelled,

    /// <summary>
    /// A continuation (<see cref="IJobQueue.ContinueWithAsync"/>) that waits for its parent to succeed; it then becomes
    /// <see cref="Waiting"/>, or is cancelled or dead-lettered if its parent fails (<see cref="ContinuationOptions.OnParentFailure"/>).
    /// </summary>
    AwaitingParent,
}
