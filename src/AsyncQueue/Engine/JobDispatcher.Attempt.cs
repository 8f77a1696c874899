using System.Diagnostics;
using System.Runtime.CompilerServices;
using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>One attempt: the handler's call, its telemetry and timeout, and how it ended.</summary>
internal sealed partial class JobDispatcher
{
    /// <summary>
    /// Runs one attempt. The common case (a job enqueued in this process, no timeout, no span or histogram listened
    /// to, a handler that completes synchronously) takes no state machine and no allocation.
    /// </summary>
    private ValueTask RunJobAsync(Worker worker, JobRecord job)
    {
        var registration = job.Registration;
        if (registration is null || registration.Timeout is not null || worker.Options.Timeout is not null || _metrics.AttemptObserved || JobQueueTracing.Source.HasListeners())
        {
            return RunJobFullyAsync(worker, job);
        }

        // The handler's call is written out here rather than through InvokeHandler: a method with a try/catch is not
        // inlined, and that call cost the no-op dispatch about 2.5 ns (8%) per job in the backlog benchmark.
        ValueTask attempt;
        try
        {
            attempt = registration.InvokeAsync(_services, job, new JobContext(job, job.Attempt), worker.CancellationToken);
        }
#pragma warning disable CA1031 // A handler that throws before its first await fails the attempt like any other.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            attempt = ValueTask.FromException(ex);
        }

        if (attempt.IsCompletedSuccessfully)
        {
            job.EndedAttempt = job.Attempt;
            return CompleteAsync(worker, job);
        }

        return FinishAttemptAsync(worker, job, registration, attempt, activity: null);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunJobFullyAsync(Worker worker, JobRecord job)
    {
        var registration = job.Registration;
        if (registration is null)
        {
            // A store that could not read a stored job reports it; it is dead-lettered at once, never retried.
            if (job.Job is UnreadableJob unreadable)
            {
                Log.UnreadableJob(_logger, job.Id, job.Kind, job.Queue, unreadable.Reason);
                _metrics.Unreadable.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue));
                job.AddError(new JobError(job.Attempt, _time.GetUtcNow(), unreadable.ErrorType, unreadable.Reason, null));
                await DeadLetterAsync(job).ConfigureAwait(false);
                return;
            }

            if (!_registry.TryGetByKind(job.Kind, out registration))
            {
                Log.UnknownKind(_logger, job.Id, job.Kind, job.Queue);
                job.AddError(new JobError(job.Attempt, _time.GetUtcNow(), "AsyncQueue.UnknownJobKind", $"No handler is registered for job kind '{job.Kind}'.", null));
                await DeadLetterAsync(job).ConfigureAwait(false);
                return;
            }

            // A store's record must hold the registered type: the handler call casts without checking.
            if (!registration.JobType.IsInstanceOfType(job.Job))
            {
                job.AddError(new JobError(job.Attempt, _time.GetUtcNow(), "AsyncQueue.JobTypeMismatch", $"The job's value is a '{job.Job.GetType().FullName}', not the '{registration.JobType.FullName}' registered for kind '{job.Kind}'.", null));
                await DeadLetterAsync(job).ConfigureAwait(false);
                return;
            }

            job.Registration = registration;
        }

        // Telemetry costs nothing unless listened to: no span without a listener, no clock read without a histogram.
        var activity = JobQueueTracing.StartProcess(job);
        _metrics.CountConsumed(job);
        var timed = _metrics.TimingEnabled;
        var started = timed ? StartTiming(worker, job) : 0;

        // The errors the job had before this attempt: one it adds is its failure (the duration's error.type).
        var errorsBefore = timed ? job.Errors.Count : 0;
        try
        {
            var timeout = registration.Timeout ?? worker.Options.Timeout;
            if (timeout is null)
            {
                await RunAttemptAsync(worker, job, registration, activity).ConfigureAwait(false);
            }
            else
            {
                await RunWithTimeoutAsync(worker, job, registration, timeout.Value, activity).ConfigureAwait(false);
            }
        }
        finally
        {
            if (timed && _metrics.ProcessDuration.Enabled)
            {
                // The completion's clock read when the end-to-end histogram took one: one read ends both.
                var ended = worker.CompletedTimestamp is not 0 and var completed ? completed : _clock.GetTimestamp();
                _metrics.RecordProcessDuration(_clock.SecondsBetween(started, ended), job, errorsBefore);
            }

            activity?.Dispose();
        }
    }

    private ValueTask RunAttemptAsync(Worker worker, JobRecord job, JobRegistration registration, Activity? activity)
    {
        return FinishAttemptAsync(worker, job, registration, InvokeHandler(registration, job, worker.CancellationToken), activity);
    }

    /// <summary>Calls the job's handler; a handler that throws before its first await fails the attempt like any other.</summary>
    private ValueTask InvokeHandler(JobRegistration registration, JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            return registration.InvokeAsync(_services, job, new JobContext(job, job.Attempt), cancellationToken);
        }
#pragma warning disable CA1031 // Any exception is the attempt's failure, awaited and judged like one thrown later.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ValueTask.FromException(ex);
        }
    }

    /// <summary>
    /// Awaits an attempt and settles it: complete, hand back on shutdown, or fail. When <paramref name="timedOut"/> is
    /// the timeout that cancelled the attempt's token, a failure is reported as that timeout.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishAttemptAsync(Worker worker, JobRecord job, JobRegistration registration, ValueTask attempt, Activity? activity, TimeSpan? timedOut = null)
    {
        try
        {
            try
            {
                await attempt.ConfigureAwait(false);
            }
            finally
            {
                job.EndedAttempt = job.Attempt;
            }
        }
        catch (Exception) when (worker.IsCancelled(job))
        {
            // Cancelled by id: whatever the handler threw on its way out, the job ends cancelled, never retried.
            await SettleCancelledAsync(worker, job).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (_cancelJobs.IsCancellationRequested)
        {
            await HandBackAsync(job).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (worker.CancellationToken.IsCancellationRequested)
        {
            // A cancel meant for this worker's previous job landed on this one (see Worker.TryCancel): not its failure.
            await HandBackUnstartedAsync(job, _time.GetUtcNow()).ConfigureAwait(false);
            return;
        }
#pragma warning disable CA1031 // A handler's exception of any type fails the attempt; it must never escape and kill the worker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (timedOut is { } timeout)
            {
                Log.JobTimedOut(_logger, job.Id, job.Kind, job.Queue, timeout, job.Attempt);
                ex = new TimeoutException($"The attempt did not finish within its timeout of {timeout}; its token was cancelled.", ex);
            }

            await FailAsync(worker, job, registration, ex, activity).ConfigureAwait(false);
            return;
        }

        await CompleteAsync(worker, job).ConfigureAwait(false);
    }

    /// <summary>Records the queue wait and returns the attempt's start: one precise clock read serves both.</summary>
    private long StartTiming(Worker worker, JobRecord job)
    {
        worker.CompletedTimestamp = 0;
        var started = _clock.GetTimestamp();
        if (_metrics.QueueWait.Enabled)
        {
            // A delayed job or a retry waits from its due time, not from its first enqueue.
            var waitingSince = (job.NotBefore ?? job.EnqueuedAt).UtcTicks;
            var wait = (double)(_clock.UtcTicksAt(started) - waitingSince) / TimeSpan.TicksPerSecond;
            _metrics.QueueWait.Record(Math.Max(0, wait), JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        }

        return started;
    }
}
