namespace AsyncQueue.Storage;

/// <summary>One worker's view of one queue of a store: hands out leased jobs one at a time. For store implementations.</summary>
/// <remarks>A consumer is used by a single worker, never concurrently, so it may keep per-worker state.</remarks>
public interface IJobConsumer
{
    /// <summary>Waits for the next job of the queue and leases it to the caller.</summary>
    /// <param name="cancellationToken">Cancelled when the worker stops.</param>
    /// <returns>The leased job, with <see cref="JobRecord.Attempt"/> already incremented for this attempt.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    ValueTask<JobRecord> FetchAsync(CancellationToken cancellationToken);
}
