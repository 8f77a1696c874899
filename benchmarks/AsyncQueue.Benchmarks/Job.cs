namespace AsyncQueue.Benchmarks;

/// <summary>The job every contender carries. Only the latency scenario reads its fields.</summary>
/// <remarks>
/// A public class with settable properties so that every peer can carry it as is (MassTransit and Hangfire
/// serialize their messages). Every scenario enqueues a fresh job each time, as an application does, so every
/// contender's allocations include this 32-byte object; what a queue allocates beyond it is its own.
/// </remarks>
public sealed class Job
{
    /// <summary>The job's slot in the latency scenario's results.</summary>
    public int Index { get; set; }

    /// <summary>When the job was enqueued, from <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>.</summary>
    public long EnqueuedAt { get; set; }
}
