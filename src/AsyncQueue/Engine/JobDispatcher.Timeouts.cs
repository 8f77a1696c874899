using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>Attempts with a timeout: the token is cancelled when it elapses, and a handler that ignores it is abandoned.</summary>
internal sealed partial class JobDispatcher
{
    private async ValueTask RunWithTimeoutAsync(Worker worker, JobRecord job, JobRegistration registration, TimeSpan timeout, System.Diagnostics.Activity? activity)
    {
        // The attempt's token: cancelled by the timeout (on the injected clock), by the host's shutdown timeout or by a cancel of the job.
        var attempt = new CancellationTokenSource(timeout, _time);
        var shutdown = worker.CancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), attempt);
        // Both clocks start before the handler does, so time that passes while it starts counts against it.
        using var stopWaiting = new CancellationTokenSource();
        var patience = Task.Delay(timeout + worker.Options.AbandonAfter, _time, stopWaiting.Token);
        var handler = InvokeHandler(registration, job, attempt.Token).AsTask();
        if (await Task.WhenAny(handler, patience).ConfigureAwait(false) != handler)
        {
            // The handler ignored its cancelled token: keep no worker hostage. Count the attempt as failed (it may be
            // retried, so the job is not lost), and let the handler run on unobserved; its end is logged.
            Log.HandlerAbandoned(_logger, job.Id, job.Kind, job.Queue, worker.Options.AbandonAfter);
            _metrics.AbandonedHandlers.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
            // The id and kind, not the record: a consumer may reuse the record for its next job.
            _ = handler.ContinueWith(
                (task, state) =>
                {
                    var (logger, id, kind, source, registration) = ((Microsoft.Extensions.Logging.ILogger, JobId, string, CancellationTokenSource, CancellationTokenRegistration))state!;
                    Log.AbandonedHandlerEnded(logger, id, kind, task.Status.ToString());
                    registration.Dispose();
                    source.Dispose();
                },
                (_logger, job.Id, job.Kind, attempt, shutdown),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            job.EndedAttempt = job.Attempt;
            if (worker.IsCancelled(job))
            {
                // Cancelled by id, and deaf to it: abandoned all the same, but it ends cancelled, never retried.
                await SettleCancelledAsync(worker, job).ConfigureAwait(false);
                return;
            }

            await FailAsync(worker, job, registration, new TimeoutException(
                $"The handler did not finish within its timeout of {timeout} and ignored its cancelled token for {worker.Options.AbandonAfter} more; it was abandoned."), activity).ConfigureAwait(false);
            return;
        }

        await stopWaiting.CancelAsync().ConfigureAwait(false);
        await shutdown.DisposeAsync().ConfigureAwait(false);
        var timedOut = attempt.IsCancellationRequested && !worker.CancellationToken.IsCancellationRequested;
        attempt.Dispose();
        await FinishAttemptAsync(worker, job, registration, new ValueTask(handler), activity, timedOut ? timeout : null).ConfigureAwait(false);
    }
}
