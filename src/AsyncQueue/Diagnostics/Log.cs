using Microsoft.Extensions.Logging;

namespace AsyncQueue.Diagnostics;

/// <summary>
/// Every log line the queue writes, source-generated, with stable event ids that operators can alert on.
/// Job payloads are never logged: only ids, kinds and queues.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Job {JobId} ({Kind}) on queue '{Queue}' failed on attempt {Attempt} and will not be retried.")]
    public static partial void JobFailed(ILogger logger, Exception exception, JobId jobId, string kind, string queue, int attempt);

    [LoggerMessage(2, LogLevel.Error, "Job {JobId} ({Kind}) on queue '{Queue}' was dead-lettered to '{DeadLetterQueue}' after {Attempts} attempt(s).")]
    public static partial void JobDeadLettered(ILogger logger, JobId jobId, string kind, string queue, int attempts, string deadLetterQueue);

    [LoggerMessage(3, LogLevel.Information, "Job queue stopped: {NotRun} accepted job(s) were left to run later or lost (waiting, or in memory scheduled for later), {StillRunning} job(s) were still running.")]
    public static partial void ShutdownSummary(ILogger logger, long notRun, int stillRunning);

    [LoggerMessage(4, LogLevel.Warning, "The host's shutdown timeout elapsed with {Running} job(s) still running; their cancellation tokens were cancelled.")]
    public static partial void ShutdownTimedOut(ILogger logger, int running);

    [LoggerMessage(5, LogLevel.Error, "The job store failed during {Operation} on queue '{Queue}'.")]
    public static partial void StoreFailed(ILogger logger, Exception exception, string operation, string queue);

    [LoggerMessage(6, LogLevel.Error, "Job {JobId} on queue '{Queue}' has kind '{Kind}', which no handler is registered for; it is dead-lettered.")]
    public static partial void UnknownKind(ILogger logger, JobId jobId, string kind, string queue);

    [LoggerMessage(7, LogLevel.Information, "Job {JobId} ({Kind}) on queue '{Queue}' was interrupted by shutdown and handed back to the store.")]
    public static partial void JobInterrupted(ILogger logger, JobId jobId, string kind, string queue);

    [LoggerMessage(8, LogLevel.Warning, "In-memory queue '{Queue}' held {Count} accepted job(s) that were never started; they are lost with this process. Use a durable store to keep them.")]
    public static partial void JobsLeftInMemory(ILogger logger, string queue, long count);

    [LoggerMessage(9, LogLevel.Warning, "Dead-letter queue '{DeadLetterQueue}' evicted job {JobId} ({Kind}): {Reason}.")]
    public static partial void DeadLetterEvicted(ILogger logger, string deadLetterQueue, JobId jobId, string kind, string reason);

    [LoggerMessage(10, LogLevel.Information, "Job {JobId} ({Kind}) on queue '{Queue}' failed on attempt {Attempt} ({ErrorType}: {ErrorMessage}) and will retry at {RunAt:O}.")]
    public static partial void RetryScheduled(ILogger logger, JobId jobId, string kind, string queue, int attempt, string errorType, string errorMessage, DateTimeOffset runAt);

    [LoggerMessage(11, LogLevel.Warning, "Job {JobId} ({Kind}) on queue '{Queue}' timed out after {Timeout} on attempt {Attempt}; its token was cancelled.")]
    public static partial void JobTimedOut(ILogger logger, JobId jobId, string kind, string queue, TimeSpan timeout, int attempt);

    [LoggerMessage(12, LogLevel.Error, "The handler of job {JobId} ({Kind}) on queue '{Queue}' ignored its cancellation for {AbandonAfter} after timing out; the worker abandoned it and moved on. It keeps running unobserved.")]
    public static partial void HandlerAbandoned(ILogger logger, JobId jobId, string kind, string queue, TimeSpan abandonAfter);

    [LoggerMessage(13, LogLevel.Error, "A dead-letter observer failed for job {JobId}; the job is safe in dead-letter queue '{DeadLetterQueue}'.")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, JobId jobId, string deadLetterQueue);

    [LoggerMessage(14, LogLevel.Warning, "An abandoned handler of job {JobId} ({Kind}) finally ended, with {Outcome}; its attempt had already been counted as failed.")]
    public static partial void AbandonedHandlerEnded(ILogger logger, JobId jobId, string kind, string outcome);

    [LoggerMessage(15, LogLevel.Warning, "The in-memory store held {Count} accepted job(s) scheduled for later (delayed, or waiting to retry); they will not run, being lost with this process. Use a durable store to keep them.")]
    public static partial void ScheduledJobsLeftInMemory(ILogger logger, long count);

    [LoggerMessage(16, LogLevel.Warning, "Job {JobId} ({Kind}) on queue '{Queue}': attempt {Attempt} had lost its lease (it expired, and the job was rescued to run under a new one), so its outcome ({Operation}) was discarded. The job runs again elsewhere.")]
    public static partial void OutcomeDiscarded(ILogger logger, JobId jobId, string kind, string queue, int attempt, string operation);

    [LoggerMessage(17, LogLevel.Warning, "Job {JobId} ({Kind}) on queue '{Queue}' was not started: the lease of attempt {Attempt} expires at {Expires:O}, too soon to start (the worker stalled or heartbeats failed). It is handed back uncharged, or runs under the lease that rescued it.")]
    public static partial void LeaseLostBeforeStart(ILogger logger, JobId jobId, string kind, string queue, int attempt, DateTimeOffset expires);

    [LoggerMessage(18, LogLevel.Warning, "Job {JobId} ({Kind}) on queue '{Queue}' was rescued from an expired lease (its process crashed, was killed or stalled). Attempt {Attempt} was not recorded as started, so it is not charged; the job runs again isolated, with its start recorded, until an attempt ends.")]
    public static partial void RescuedUncharged(ILogger logger, JobId jobId, string kind, string queue, int attempt);

    [LoggerMessage(19, LogLevel.Error, "Job {JobId} ({Kind}) on queue '{Queue}' cannot be read from the store and is dead-lettered without running: {Reason}")]
    public static partial void UnreadableJob(ILogger logger, JobId jobId, string kind, string queue, string reason);

    [LoggerMessage(20, LogLevel.Information, "Job {JobId} ({Kind}) on queue '{Queue}' was cancelled (attempts started: {Attempt}); it is neither retried nor dead-lettered.")]
    public static partial void JobCancelled(ILogger logger, JobId jobId, string kind, string queue, int attempt);

    [LoggerMessage(21, LogLevel.Information, "Cancel of job {JobId} requested.")]
    public static partial void CancelRequested(ILogger logger, JobId jobId);

    [LoggerMessage(22, LogLevel.Information, "Queue '{Queue}' {Action}: it accepts jobs, and starts {Starts}.")]
    public static partial void QueuePauseChanged(ILogger logger, string queue, string action, string starts);

    [LoggerMessage(23, LogLevel.Information, "Continuation {JobId} ({Kind}) on queue '{Queue}' will not run: its parent {ParentId} was dead-lettered or cancelled, so it is {Outcome}.")]
    public static partial void ParentFailed(ILogger logger, JobId jobId, string kind, string queue, JobId parentId, string outcome);

    [LoggerMessage(24, LogLevel.Error, "Continuation {JobId} of job {ParentId} could not be released to the store; it is lost with this process's in-memory jobs.")]
    public static partial void ContinuationReleaseFailed(ILogger logger, Exception exception, JobId jobId, JobId parentId);
}
