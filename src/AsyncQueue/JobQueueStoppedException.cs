namespace AsyncQueue;

/// <summary>Thrown by an enqueue after the job queue has begun shutting down. The job was not enqueued.</summary>
public sealed class JobQueueStoppedException : InvalidOperationException
{
    /// <summary>Initializes a new instance.</summary>
    public JobQueueStoppedException()
        : base("The job queue is stopping or stopped and accepts no new jobs; the job was not enqueued.")
    {
    }
}
