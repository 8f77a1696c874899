namespace AsyncQueue.Benchmarks;

/// <summary>
/// Scenario 4's work: the no-op handler, except that every tenth job (<c>Index % 10 == 0</c>) throws on its first
/// attempt. Deterministic, so every contender fails the same jobs; the second attempt succeeds.
/// </summary>
/// <remarks>
/// The exception is thrown and caught here and returned as a faulted task, which is what an <c>async</c> handler
/// does, so both the engine and the Channel&lt;T&gt; loop pay for one throw and one rethrow at their <c>await</c>.
/// </remarks>
public sealed class FlakyHandler(Completion completion) : IJobHandler<Job>
{
    private long _failures;

    /// <summary>Gets how many attempts have failed so far: the retries the queue owes.</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <inheritdoc />
    public Task HandleAsync(Job job, JobContext context, CancellationToken cancellationToken) => RunAsync(job, context.Attempt);

    /// <summary>Runs <paramref name="job"/>'s attempt number <paramref name="attempt"/> (1 for the first).</summary>
    public Task RunAsync(Job job, int attempt)
    {
        ArgumentNullException.ThrowIfNull(job);
        try
        {
            if (attempt == 1 && job.Index % 10 == 0)
            {
                Interlocked.Increment(ref _failures);
                throw new InvalidOperationException("Scenario 4: the first attempt of every tenth job fails.");
            }

            completion.Signal(job);
            return Task.CompletedTask;
        }
        catch (InvalidOperationException ex)
        {
            return Task.FromException(ex);
        }
    }
}
