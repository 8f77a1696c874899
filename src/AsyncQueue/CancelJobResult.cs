namespace AsyncQueue;

/// <summary>What <see cref="IJobQueue.CancelAsync"/> did.</summary>
public enum CancelJobResult
{
    /// <summary>The job was waiting, scheduled or waiting for a retry: it will not run, and is now <see cref="JobState.Cancelled"/>.</summary>
    Cancelled,

    /// <summary>
    /// The job is running: its handler's cancellation token was cancelled, in whichever process runs it. A handler that
    /// stops on it ends the job as <see cref="JobState.Cancelled"/>, never retried; one that finishes anyway ends it as
    /// it would have. A durable store's other processes see the request at their next lease heartbeat.
    /// </summary>
    CancellationRequested,

    /// <summary>The job had already finished (succeeded, dead-lettered or cancelled); nothing was changed.</summary>
    AlreadyFinished,

    /// <summary>No job has this id: it never existed, or it finished longer ago than the queue's retention.</summary>
    NotFound,
}
