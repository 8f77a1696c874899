namespace AsyncQueue;

/// <summary>What an enqueue does when a bounded queue is full.</summary>
public enum QueueFullMode
{
    /// <summary>
    /// Wait asynchronously until a worker takes a job and frees room (back-pressure). A producer still waiting when the
    /// queue stops gets <see cref="JobQueueStoppedException"/>: its job was not enqueued.
    /// </summary>
    Wait = 0,

    /// <summary>Throw <see cref="JobQueueFullException"/> at once.</summary>
    Throw = 1,
}
