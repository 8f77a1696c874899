using System.Diagnostics;
using System.Runtime.CompilerServices;
using AsyncQueue.Diagnostics;
using AsyncQueue.Retry;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>How an attempt is settled with the store: complete, retry, dead-letter or hand back.</summary>
internal sealed partial class JobDispatcher
{
    // Not through SettleAsync: a delegate per job would be an allocation on the hot path. A store that completes
    // synchronously (the in-memory one) costs no state machine either.
    private ValueTask CompleteAsync(Worker worker, JobRecord job)
    {
        ValueTask completing;
        try
        {
            completing = _store.CompleteAsync(job, CancellationToken.None);
            if (completing.IsCompletedSuccessfully)
            {
                OnCompleted(worker, job);
                return default;
            }
        }
#pragma warning disable CA1031 // The job stays leased in a durable store and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            OnSettleFailed(ex, job, "complete");
            return default;
        }

        return AwaitCompleteAsync(completing, worker, job);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitCompleteAsync(ValueTask completing, Worker worker, JobRecord job)
    {
        try
        {
            await completing.ConfigureAwait(false);
            OnCompleted(worker, job);
        }
#pragma warning disable CA1031 // As above: the worker must survive a store failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            OnSettleFailed(ex, job, "complete");
        }
    }

    private void OnCompleted(Worker worker, JobRecord job)
    {
        if (worker.Finished is { } finished)
        {
            KeepFinished(finished, job, JobState.Succeeded);
        }

        // Only in-process continuations wait here (a store that keeps them released them as it completed the parent).
        if (_continuations.Any)
        {
            ReleaseChildren(job.Id);
        }

        if (_metrics.Completed.Enabled)
        {
            _metrics.Completed.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        }

        if (_metrics.EndToEnd.Enabled)
        {
            var completed = _clock.GetTimestamp();
            worker.CompletedTimestamp = completed;
            var endToEnd = (double)(_clock.UtcTicksAt(completed) - job.EnqueuedAt.UtcTicks) / TimeSpan.TicksPerSecond;
            _metrics.EndToEnd.Record(endToEnd, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        }
    }

    /// <summary>A failed attempt: the retry policy chooses between a later attempt and the dead-letter queue.</summary>
    private async ValueTask FailAsync(Worker worker, JobRecord job, JobRegistration registration, Exception exception, Activity? activity)
    {
        var now = _time.GetUtcNow();
        JobQueueTracing.RecordFailure(activity, exception);
        _metrics.CountFailedAttempt(job, exception);
        job.AddError(JobError.FromException(job.Attempt, now, exception));

        // A result is the succeeding attempt's: one a failed attempt reported must not outlive it.
        job.Result = null;

        // The attempt ended without taking the process down: whatever it was suspected of, it is not a crash.
        job.Isolated = false;
        var decision = Decide(registration.Retry ?? worker.Options.Retry, job, exception, now);
        if (decision.ShouldRetry)
        {
            // A retried failure is routine: one Information line with the error's type and message, no stack.
            Log.RetryScheduled(_logger, job.Id, job.Kind, job.Queue, job.Attempt, exception.GetType().Name, exception.Message, decision.RunAt);
            _metrics.Retried.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
            await SettleAsync(job, "retry", (j, ct) => _store.RescheduleAsync(j, decision.RunAt, ct)).ConfigureAwait(false);
            return;
        }

        // The failure that ends the job carries its stack.
        Log.JobFailed(_logger, exception, job.Id, job.Kind, job.Queue, job.Attempt);
        await DeadLetterAsync(job).ConfigureAwait(false);
    }

    /// <summary>
    /// The retry policy's decision for a failed attempt, whether a handler threw or its process crashed.
    /// <see cref="JobRecord.MaxAttempts"/> always caps it, and a policy that throws gives up (with its error recorded):
    /// a broken policy must not lose the job or run it forever.
    /// </summary>
    private static RetryDecision Decide(IRetryPolicy policy, JobRecord job, Exception exception, DateTimeOffset now)
    {
        if (job.MaxAttempts is int max && job.Attempt >= max)
        {
            return RetryDecision.GiveUp;
        }

        try
        {
            return policy.Decide(new RetryArguments(exception, job.Attempt, job.MaxAttempts, job.Kind, job.Queue, now));
        }
#pragma warning disable CA1031 // A broken custom policy must not lose the job: it goes to the dead-letter queue with the policy's error.
        catch (Exception policyError)
#pragma warning restore CA1031
        {
            job.AddError(JobError.FromException(job.Attempt, now, policyError));
            return RetryDecision.GiveUp;
        }
    }

    private async ValueTask DeadLetterAsync(JobRecord job)
    {
        DeadLetterEntry entry;
        try
        {
            entry = await _store.DeadLetterAsync(job, _deadLetterTargets.Of(job.Queue), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The job stays leased in a durable store and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            OnSettleFailed(ex, job, "dead-letter");
            return;
        }

        Log.JobDeadLettered(_logger, job.Id, job.Kind, job.Queue, job.Attempt, entry.DeadLetterQueue);
        if (_continuations.Any)
        {
            await FailChildrenAsync(job.Id).ConfigureAwait(false);
        }

        _metrics.DeadLettered.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        foreach (var observer in _observers)
        {
            try
            {
                await observer.OnDeadLetteredAsync(entry, _cancelJobs.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // An observer's failure must not touch the job, which is already safe.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ObserverFailed(_logger, ex, job.Id, entry.DeadLetterQueue);
            }
        }
    }

    /// <summary>A job cancelled by id (before its start or while it ran): neither retried nor dead-lettered.</summary>
    /// <remarks>Also an in-process continuation whose parent failed, with the worker of its queue (or none before the start).</remarks>
    private async ValueTask SettleCancelledAsync(Worker? worker, JobRecord job)
    {
        job.Result = null;
        Log.JobCancelled(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
        _metrics.Cancelled.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        await SettleAsync(job, "cancel", (j, ct) => _store.MarkCancelledAsync(j, ct)).ConfigureAwait(false);
        if (worker?.Finished is { } finished)
        {
            KeepFinished(finished, job, JobState.Cancelled);
        }

        if (_continuations.Any)
        {
            await FailChildrenAsync(job.Id).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Keeps a finished job's status for a store that keeps none. Never inlined: in <see cref="OnCompleted"/> its body
    /// kept the completion path from being inlined into the attempt, which cost the no-op dispatch about 4.5 ns (15%)
    /// per job in the backlog benchmark even with statuses off.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void KeepFinished(FinishedJobs finished, JobRecord job, JobState state)
    {
        if (finished.Record(job, state, _finishedClock.UtcTicks))
        {
            _metrics.StatusEvicted.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue));
        }
    }

    /// <summary>Shutdown is not the job's failure: hand it back without spending an attempt.</summary>
    private ValueTask HandBackAsync(JobRecord job)
    {
        Log.JobInterrupted(_logger, job.Id, job.Kind, job.Queue);
        UndoAttempt(job);
        job.Result = null;
        var now = _time.GetUtcNow();
        return SettleAsync(job, "hand back", (j, ct) => _store.RescheduleAsync(j, now, ct));
    }

    /// <summary>Tells the store how the attempt ended. A store failure is logged, never thrown: the worker goes on.</summary>
    private async ValueTask SettleAsync(JobRecord job, string operation, Func<JobRecord, CancellationToken, ValueTask> settle)
    {
        try
        {
            await settle(job, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The job stays leased in a durable store and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            OnSettleFailed(ex, job, operation);
        }
    }

    /// <summary>
    /// A lost lease is no store failure: the attempt ran too long without a heartbeat, the job was rescued, and a newer
    /// attempt owns it. One Warning says so; anything else is the store failing, and its lease will expire.
    /// </summary>
    private void OnSettleFailed(Exception exception, JobRecord job, string operation)
    {
        if (exception is JobLeaseLostException)
        {
            Log.OutcomeDiscarded(_logger, job.Id, job.Kind, job.Queue, job.Attempt, operation);
            _metrics.LeasesLost.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue));
            return;
        }

        Log.StoreFailed(_logger, exception, operation, job.Queue);
    }
}
