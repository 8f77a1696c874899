namespace AsyncQueue.Benchmarks;

/// <summary>
/// Scenario 3, "the full pipeline on": everything an application turns on, so that its cost is measured against
/// Channel&lt;T&gt; (the target is at least 0.5x). This is the one place to switch each part on.
/// </summary>
/// <remarks>
/// So far it turns on the DI scope per job: <c>AddHandler</c> registers <see cref="NoOpHandler"/> scoped (the
/// <see cref="Contenders.ContenderKind.AsyncQueue"/> contender registers it as a singleton first to skip the scope).
/// The retry policy, idempotency keys and metrics were written alongside these benchmarks; to measure them, fill in
/// <see cref="AddRetryPolicy"/>, <see cref="AddIdempotency"/>, <see cref="AddMetrics"/> and
/// <see cref="EnqueueOptions"/>, and every scenario that runs the full pipeline picks them up.
/// </remarks>
internal static class FullPipeline
{
    /// <summary>Turns every part of the pipeline on, for a queue whose handler <c>AddHandler</c> registered scoped.</summary>
    public static void Configure(IJobQueueBuilder builder)
    {
        AddRetryPolicy(builder);
        AddIdempotency(builder);
        AddMetrics(builder);
    }

    /// <summary>The options each job of the full pipeline is enqueued with: the place for its idempotency key.</summary>
    /// <remarks>
    /// Null for now (no key). To measure idempotency keys: <c>new EnqueueOptions { IdempotencyKey = ... }</c> with a
    /// key unique per job (a cached string per <see cref="Job.Index"/>, so the benchmark itself adds no allocation).
    /// </remarks>
    public static EnqueueOptions? EnqueueOptions(Job job) => null;

    /// <summary>The place for the retry policy (for example three attempts, zero delay). A no-op for now.</summary>
    private static void AddRetryPolicy(IJobQueueBuilder builder) => ArgumentNullException.ThrowIfNull(builder);

    /// <summary>The place for idempotency keys (a retention window per queue). A no-op for now.</summary>
    private static void AddIdempotency(IJobQueueBuilder builder) => ArgumentNullException.ThrowIfNull(builder);

    /// <summary>The place for metrics (the queue's meter, with a listener enabled so that they cost something). A no-op for now.</summary>
    private static void AddMetrics(IJobQueueBuilder builder) => ArgumentNullException.ThrowIfNull(builder);
}
