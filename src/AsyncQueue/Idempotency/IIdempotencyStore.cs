namespace AsyncQueue.Idempotency;

/// <summary>
/// Remembers idempotency keys for a store that has no unique index of its own (the in-memory store). Durable
/// stores enforce keys in the same transaction as the job instead. Replace it in DI to share keys elsewhere.
/// </summary>
/// <remarks>Implementations must be thread-safe and bounded: expired keys are evicted, so memory cannot grow without limit.</remarks>
public interface IIdempotencyStore
{
    /// <summary>Claims a key for a new job, unless a live job holds it.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="jobId">The new job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The id of the job that holds the key: <paramref name="jobId"/> when the claim succeeded, else the original job's.</returns>
    ValueTask<JobId> ClaimAsync(string key, JobId jobId, CancellationToken cancellationToken);

    /// <summary>Keeps the key refusing duplicates for <paramref name="retention"/> after its job succeeded.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="jobId">The job that succeeded.</param>
    /// <param name="retention">How long to keep the key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the key is marked.</returns>
    ValueTask MarkSucceededAsync(string key, JobId jobId, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>Frees the key because its job was not accepted, or failed for good.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="jobId">The job that held it; a key held by another job is left alone.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the key is freed.</returns>
    ValueTask ReleaseAsync(string key, JobId jobId, CancellationToken cancellationToken);
}
