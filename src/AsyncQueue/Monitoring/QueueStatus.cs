namespace AsyncQueue.Monitoring;

/// <summary>A queue's jobs by state at one moment.</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Waiting">Jobs due and waiting for a worker.</param>
/// <param name="Scheduled">Jobs waiting for their time: delayed jobs and retries.</param>
/// <param name="Running">Jobs running: in any process for a durable store, in this one for the in-memory store.</param>
/// <param name="DeadLetterQueue">The queue's dead-letter queue.</param>
/// <param name="DeadLettered">Jobs held in that dead-letter queue (which other queues may share).</param>
/// <param name="Paused">Whether the queue is paused (<see cref="IJobQueue.PauseAsync"/>).</param>
public sealed record QueueStatus(string Queue, long Waiting, long Scheduled, long Running, string DeadLetterQueue, long DeadLettered, bool Paused);
