using AsyncQueue.RateLimiting;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// Rate limits in this process (<see cref="QueueOptions.RateLimit"/>): a worker that fetched a job waits for a permit
/// before starting it. A queue without a limit pays one null check per job.
/// </summary>
internal sealed partial class JobDispatcher
{
    private readonly List<RateLimitGate> _gates = [];

    /// <summary>
    /// The gate of a queue's workers in this process: none without a limit, and none for a queue-wide limit that the
    /// store enforces itself across processes (<see cref="JobStoreCapabilities.SharedRateLimits"/>): counting it twice
    /// would only lower it.
    /// </summary>
    private RateLimitGate? GateFor(QueueOptions options)
    {
        if (options.RateLimit is not { } limit
            || (limit.Key is null && (_store.Capabilities & JobStoreCapabilities.SharedRateLimits) != 0))
        {
            return null;
        }

        var gate = new RateLimitGate(limit, options.MaxConcurrency, _time);
        _gates.Add(gate);
        return gate;
    }

    /// <summary>
    /// Waits for the permit to start <paramref name="job"/>. While it waits the job reads as waiting, and a cancel of it
    /// ends the wait (the worker's cancel check then settles it, as for any job cancelled before it starts). When the
    /// queue stops meanwhile, the job is handed back to the store, uncharged: the limiter never fails or drops a job.
    /// </summary>
    /// <returns><see langword="false"/> when the job was handed back and must not start.</returns>
    private async ValueTask<bool> WaitForPermitAsync(Worker worker, RateLimitGate gate, JobRecord job, CancellationToken stopping)
    {
        // Cancels first: a job cancelled already spends no permit, and a token that an earlier job's cancel used is
        // renewed, so it cannot end this wait early and let the job start without a permit.
        if (worker.NeedsAttention && CancelledBeforeStart(worker, job))
        {
            await SettleUnstartedCancelAsync(worker, job).ConfigureAwait(false);
            return false;
        }

        if (gate.TryEnter(job.Job))
        {
            return true;
        }

        worker.AwaitingPermit = true;
        try
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping, worker.CancellationToken);
            try
            {
                await gate.WaitAsync(job.Job, waiting.Token).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested && worker.CancellationToken.IsCancellationRequested)
            {
                // Its cancel: the worker's token was cancelled for it, and the cancel check before the start settles it.
                return true;
            }
            catch (OperationCanceledException)
            {
                await HandBackUnstartedAsync(job, _time.GetUtcNow()).ConfigureAwait(false);
                return false;
            }
        }
        finally
        {
            worker.AwaitingPermit = false;
        }
    }

    private async ValueTask DisposeGatesAsync()
    {
        foreach (var gate in _gates)
        {
            await gate.DisposeAsync().ConfigureAwait(false);
        }
    }
}
