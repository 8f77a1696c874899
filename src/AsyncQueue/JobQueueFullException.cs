namespace AsyncQueue;

/// <summary>Thrown by an enqueue to a bounded queue that is full and set to <see cref="QueueFullMode.Throw"/>. Nothing was enqueued.</summary>
public sealed class JobQueueFullException : InvalidOperationException
{
    /// <summary>Initializes a new instance for the named queue.</summary>
    /// <param name="queue">The full queue.</param>
    /// <param name="capacity">Its capacity.</param>
    public JobQueueFullException(string queue, int capacity)
        : this(queue, capacity, $"Queue '{queue}' is full (Capacity = {capacity}) and its FullMode is Throw; the job was not enqueued.")
    {
    }

    /// <summary>A batch of <paramref name="batchSize"/> jobs, more than the queue can ever hold, whatever its FullMode.</summary>
    internal JobQueueFullException(string queue, int capacity, int batchSize)
        : this(queue, capacity, $"A batch of {batchSize} jobs can never fit in queue '{queue}' (Capacity = {capacity}); no job of it was enqueued. Enqueue at most {capacity} jobs per batch.")
    {
    }

    private JobQueueFullException(string queue, int capacity, string message)
        : base(message)
    {
        Queue = queue;
        Capacity = capacity;
    }

    /// <summary>Gets the name of the full queue.</summary>
    public string Queue { get; }

    /// <summary>Gets the queue's capacity.</summary>
    public int Capacity { get; }
}
