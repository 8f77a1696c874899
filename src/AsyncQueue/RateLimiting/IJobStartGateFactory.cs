namespace AsyncQueue.RateLimiting;

/// <summary>
/// Makes the <see cref="IJobStartGate"/> of each queue whose <see cref="QueueOptions.RateLimit"/> this process enforces:
/// a limit per key, or any limit on a store without <see cref="Storage.JobStoreCapabilities.SharedRateLimits"/>. For
/// rate-limiter packages: <c>UseRateLimiting()</c> of AsyncQueue.RateLimiting registers one. Without one, such a queue
/// fails the start with <see cref="RateLimiterNotRegisteredException"/>.
/// </summary>
public interface IJobStartGateFactory
{
    /// <summary>Makes the gate of one queue; the dispatcher disposes it when it stops.</summary>
    /// <param name="limit">The queue's limit, validated.</param>
    /// <param name="workers">The queue's workers in this process: the most that ever wait at once.</param>
    /// <param name="time">The queue's clock: windows turn on its timers, so that fake time drives them in tests.</param>
    /// <returns>The gate.</returns>
    IJobStartGate Create(JobRateLimit limit, int workers, TimeProvider time);
}
