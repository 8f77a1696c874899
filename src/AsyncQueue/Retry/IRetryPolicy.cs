namespace AsyncQueue.Retry;

/// <summary>
/// Decides what happens after a failed attempt: run the job again at a given time, or give up and dead-letter it.
/// Set one per queue (<see cref="QueueOptions.Retry"/>) or per job type (<see cref="JobOptions.Retry"/>).
/// </summary>
/// <remarks>Called on a worker after each failure, never concurrently for one job; it must not block.</remarks>
public interface IRetryPolicy
{
    /// <summary>Decides the fate of a job whose attempt failed.</summary>
    /// <param name="arguments">The failure: exception, attempt number, job kind, queue, the time now.</param>
    /// <returns>When to retry, or to give up.</returns>
    RetryDecision Decide(in RetryArguments arguments);
}
