namespace AsyncQueue.RateLimiting;

/// <summary>Makes a <see cref="FixedWindowStartGate"/> for each queue whose limit this process enforces.</summary>
internal sealed class FixedWindowStartGateFactory : IJobStartGateFactory
{
    public IJobStartGate Create(JobRateLimit limit, int workers, TimeProvider time) => new FixedWindowStartGate(limit, workers, time);
}
