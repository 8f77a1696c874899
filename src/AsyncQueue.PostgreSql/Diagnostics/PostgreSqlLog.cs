using Microsoft.Extensions.Logging;

namespace AsyncQueue.PostgreSql.Diagnostics;

/// <summary>
/// Every log line the PostgreSQL store writes, source-generated, with stable event ids (200 and up, apart from the
/// core's and SQLite's; 202 to 204 and 209 are retired: the dispatcher logs rescues, unreadable jobs and observer failures). Job payloads are never logged: only ids, kinds and queues.
/// </summary>
internal static partial class PostgreSqlLog
{
    [LoggerMessage(201, LogLevel.Information, "PostgreSQL job store opened schema '{Schema}' on {Server}: {Waiting} job(s) waiting or scheduled, {Leased} leased, {DeadLetters} dead-lettered.")]
    public static partial void Opened(ILogger logger, string schema, string server, long waiting, long leased, long deadLetters);

    // Only for a completion nobody awaits (asynchronous completions): the dispatcher logs every other lost lease.
    [LoggerMessage(205, LogLevel.Warning, "Job {JobId} ({Kind}) on queue '{Queue}': attempt {Attempt} lost its lease, so its outcome ({Operation}) was discarded; a newer attempt owns the job.")]
    public static partial void LeaseLost(ILogger logger, JobId jobId, string kind, string queue, int attempt, string operation);

    [LoggerMessage(206, LogLevel.Warning, "Dead-letter queue '{DeadLetterQueue}' evicted job {JobId} ({Kind}): {Reason}.")]
    public static partial void DeadLetterEvicted(ILogger logger, string deadLetterQueue, JobId jobId, string kind, string reason);

    [LoggerMessage(207, LogLevel.Warning, "The PostgreSQL job store's {Task} failed; it tries again.")]
    public static partial void BackgroundFailed(ILogger logger, Exception exception, string task);

    [LoggerMessage(208, LogLevel.Information, "PostgreSQL job store closed: {Released} leased job(s) that no worker had started were handed back.")]
    public static partial void Closed(ILogger logger, int released);

    [LoggerMessage(210, LogLevel.Warning, "The PostgreSQL job store lost its LISTEN connection; idle workers poll every {PollInterval} until it is back.")]
    public static partial void ListenLost(ILogger logger, Exception exception, TimeSpan pollInterval);

    [LoggerMessage(211, LogLevel.Information, "PostgreSQL job store: the status of {Count} finished job(s) of queue '{Queue}' was evicted early, beyond its FinishedJobCapacity of {Capacity}.")]
    public static partial void StatusesEvicted(ILogger logger, int count, string queue, int capacity);
}
