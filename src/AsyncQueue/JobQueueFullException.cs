namespace AsyncQueue;

/// <summary>Thrown by an enqueue to a bounded queue that is full and set to <see cref="QueueFullMode.Throw"/>. Nothing was enqueued.</summary>
public sealed class JobQueueFullException : InvalidOperationException
{
    /// <summary>Initializes a new instance for the named queue.</summary>
    /// <param name="queue">The full queue.</param>
    /// <param name="capacity">Its capacity.</param>
    public JobQueueFullException(string queue, int capacity)
        : base($"Queue '{queue}' is full (Capacity = {capacity}) and its FullMode is Throw; the job was not enqueued.")
    {
        Queue = queue;
        Capacity = capacity;
    }

    /// <summary>Gets the name of the full queue.</summary>
    public string Queue { get; }

    /// <summary>Gets the queue's capacity.</summary>
    public int Capacity { get; }
}
