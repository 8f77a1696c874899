namespace AsyncQueue.Dashboard.Throughput;

/// <summary>A queue's counts in this process: totals since it started, and per second over the last minute, oldest first.</summary>
internal sealed record ThroughputSnapshot(long Succeeded, long FailedAttempts, long[] SucceededPerSecond, long[] FailedPerSecond);
