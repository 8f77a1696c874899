namespace AsyncQueue.Testing;

/// <summary>Does what an <see cref="OperationsJob"/> asks, and tells the <see cref="OperationsProbe"/>.</summary>
/// <param name="probe">The process's probe.</param>
public sealed class OperationsJobHandler(OperationsProbe probe) : IJobHandler<OperationsJob>
{
    /// <inheritdoc />
    public async Task HandleAsync(OperationsJob job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        probe.OnStarted(job.Number);
        switch (job.Behavior)
        {
            case OperationsJobBehavior.Fail:
                throw new InvalidOperationException($"failure of job {job.Number}, attempt {context.Attempt}");
            case OperationsJobBehavior.WaitForCancel:
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    probe.OnCancelled();
                    throw;
                }

                break;
            default:
                context.SetResult($"result {job.Number}");
                break;
        }
    }
}
