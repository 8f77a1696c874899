namespace AsyncQueue;

/// <summary>
/// Handles jobs of type <typeparamref name="TJob"/>. Register an implementation with
/// <c>services.AddJobQueue().AddHandler&lt;TJob, THandler&gt;()</c>.
/// </summary>
/// <typeparam name="TJob">The job type this handler processes.</typeparam>
/// <remarks>
/// By default a handler is resolved from a fresh asynchronous DI scope for every job, so it may depend on
/// scoped services such as a <c>DbContext</c>. An exception thrown by the handler fails the attempt; it never
/// stops the worker or the host.
/// </remarks>
public interface IJobHandler<in TJob>
    where TJob : notnull
{
    /// <summary>Processes one attempt of a job.</summary>
    /// <param name="job">The job to process.</param>
    /// <param name="context">Facts about this job and attempt: id, attempt number, queue, enqueue time, idempotency key.</param>
    /// <param name="cancellationToken">Cancelled when the host's shutdown timeout has elapsed (or the attempt times out): stop work promptly.</param>
    /// <returns>A task that completes when the job has been processed.</returns>
    Task HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken);
}
