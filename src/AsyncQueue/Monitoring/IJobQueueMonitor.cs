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
}
