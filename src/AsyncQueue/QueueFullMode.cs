namespace AsyncQueue;

/// <summary>What an enqueue does when a bounded queue is full.</summary>
public enum QueueFullMode
{
    /// <summary>
    /// Wait asynchronously until a worker takes a job and frees room (back-pressure). A batch waits until there is room
    /// for all of it, and one larger than the capacity throws <see cref="JobQueueFullException"/> at once. A producer
    /// still waiting when the queue stops gets <see cref="JobQueueStoppedException"/>: its jobs were not enqueued.
    /// </summary>
    Wait = 0,

    /// <summary>Throw <see cref="JobQueueFullException"/> at once.</summary>
    Throw = 1,
}
