namespace AsyncQueue.RateLimiting;

/// <summary>
/// A queue's <see cref="QueueOptions.RateLimit"/> in one process: the permit a worker waits for between fetching a job
/// and starting it. For rate-limiter packages (AsyncQueue.RateLimiting implements it); applications only configure
/// <see cref="QueueOptions.RateLimit"/>.
/// </summary>
/// <remarks>
/// The dispatcher asks <see cref="TryEnter"/> first and waits in <see cref="WaitAsync"/> only when it says no. A gate
/// never fails or drops a job: it lets it start, or keeps it waiting until a window has room or the wait is cancelled.
/// </remarks>
public interface IJobStartGate : IAsyncDisposable
{
    /// <summary>Takes a permit to start <paramref name="job"/> if one is free now.</summary>
    /// <param name="job">The job, as enqueued (a limit per key reads its key from it).</param>
    /// <returns><see langword="true"/> when the job may start now.</returns>
    bool TryEnter(object job);

    /// <summary>Waits for a permit to start <paramref name="job"/>, in the order the queue's workers asked.</summary>
    /// <param name="job">The job, as enqueued.</param>
    /// <param name="cancellationToken">Ends the wait: the job's cancel, or the queue stopping.</param>
    /// <returns>A task that completes when the job may start.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired, or the gate was disposed, while waiting.</exception>
    ValueTask WaitAsync(object job, CancellationToken cancellationToken);
}
