namespace AsyncQueue.Monitoring;

/// <summary>
/// A read-only view of the job queue, for health checks, metrics and dashboards: the configured queues with their
/// settings, and each queue's jobs by state. Resolve it from DI; it works the same over every store.
/// </summary>
public interface IJobQueueMonitor
{
    /// <summary>Gets a value indicating whether the workers were started, are not stopping, and none has ended.</summary>
    bool WorkersRunning { get; }

    /// <summary>Gets every configured queue with its settings, in declaration order.</summary>
    IReadOnlyList<QueueInfo> Queues { get; }

    /// <summary>Counts a queue's jobs by state, as the store sees them now.</summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The counts.</returns>
    /// <exception cref="QueueNotConfiguredException">No queue has that name.</exception>
    ValueTask<QueueStatus> GetStatusAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets what became of a job: its state, attempts, times, errors and result. Finished jobs are kept for their
    /// queue's <see cref="QueueOptions.FinishedJobRetention"/> (at most <see cref="QueueOptions.FinishedJobCapacity"/>,
    /// which the in-memory store leaves at none unless set), dead-lettered ones for as long as their dead-letter queue
    /// holds them.
    /// </summary>
    /// <param name="id">The job's id, as its enqueue returned it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job's status, or <see langword="null"/> when no job has this id: it never existed, or its status was evicted.</returns>
    /// <exception cref="NotSupportedException">The store keeps no job status (<see cref="Storage.JobStoreCapabilities.JobStatus"/>, such as a broker's).</exception>
    ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until a queue, or every queue, is idle: no job waiting (due), and none running. Jobs scheduled for later do
    /// not count until they fall due, and a paused queue with waiting jobs is not idle. For console programs that
    /// enqueue work and then must wait for it, and for tests. With a durable store, jobs of every process count.
    /// </summary>
    /// <param name="queue">The queue's name, or <see langword="null"/> for every queue.</param>
    /// <param name="cancellationToken">Ends the wait; the call then throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>A task that completes when the queue was seen idle.</returns>
    /// <exception cref="QueueNotConfiguredException"><paramref name="queue"/> names no configured queue.</exception>
    /// <remarks>
    /// It polls the store's counts, every 20 milliseconds for the in-memory store and every 100 for a durable one. A job
    /// waiting for its retry is scheduled, so it does not count: to wait for retries too, call <see cref="WaitUntilEmptyAsync"/>.
    /// </remarks>
    Task WaitForIdleAsync(string? queue = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until a queue, or every queue, holds no job at all: none waiting, none running, and none scheduled (a
    /// delayed job, or a failed one waiting for its retry). For a console program that must not stop before its jobs'
    /// retries ran (the in-memory store loses scheduled jobs when the process ends). A job delayed far into the future
    /// keeps it waiting until that job ran.
    /// </summary>
    /// <param name="queue">The queue's name, or <see langword="null"/> for every queue.</param>
    /// <param name="cancellationToken">Ends the wait; the call then throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>A task that completes when the queue was seen empty.</returns>
    /// <exception cref="QueueNotConfiguredException"><paramref name="queue"/> names no configured queue.</exception>
    Task WaitUntilEmptyAsync(string? queue = null, CancellationToken cancellationToken = default);
}
