namespace AsyncQueue.Storage;

/// <summary>A queue's jobs by state, as a store counts them at one moment. For store implementations; applications read <see cref="Monitoring.QueueStatus"/>.</summary>
/// <param name="Waiting">Jobs due and waiting for a worker.</param>
/// <param name="Scheduled">Jobs waiting for their time: delayed jobs and retries.</param>
/// <param name="Running">
/// Jobs leased to a worker, in any process; <see langword="null"/> when the store does not track them (the in-memory
/// store, whose running jobs the dispatcher counts).
/// </param>
/// <param name="Paused">Whether the queue is paused (<see cref="IJobStore.SetPausedAsync"/>): its jobs are accepted, and none is handed out.</param>
public readonly record struct QueueCounts(long Waiting, long Scheduled, long? Running, bool Paused = false);
