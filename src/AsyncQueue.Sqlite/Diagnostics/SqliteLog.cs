using Microsoft.Extensions.Logging;

namespace AsyncQueue.Sqlite.Diagnostics;

/// <summary>
/// Every log line the SQLite store writes, source-generated, with stable event ids (100 and up, apart from the core's; ids of removed messages are not reused).
/// Job payloads are never logged: only ids, kinds and queues.
/// </summary>
internal static partial class SqliteLog
{
    [LoggerMessage(101, LogLevel.Information, "SQLite job store opened '{DataSource}': {Waiting} job(s) waiting or scheduled, {Leased} leased, {DeadLetters} dead-lettered.")]
    public static partial void Opened(ILogger logger, string dataSource, long waiting, long leased, long deadLetters);

    [LoggerMessage(106, LogLevel.Warning, "Dead-letter queue '{DeadLetterQueue}' evicted job {JobId} ({Kind}): {Reason}.")]
    public static partial void DeadLetterEvicted(ILogger logger, string deadLetterQueue, JobId jobId, string kind, string reason);

    [LoggerMessage(107, LogLevel.Error, "The SQLite job store failed to write {Operations} operation(s); they are retried one by one.")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int operations);

    [LoggerMessage(108, LogLevel.Error, "The SQLite job store failed a write operation ({Operation}).")]
    public static partial void OperationFailed(ILogger logger, Exception exception, string operation);

    [LoggerMessage(109, LogLevel.Information, "SQLite job store closed: {Released} leased job(s) that no worker had started were handed back.")]
    public static partial void Closed(ILogger logger, int released);

    [LoggerMessage(111, LogLevel.Warning, "SQLite job store: {Count} job(s) wait on queue(s) that this process does not configure ({Queues}); they run only where those queues are configured.")]
    public static partial void UnconfiguredQueues(ILogger logger, long count, string queues);

    [LoggerMessage(113, LogLevel.Error, "SQLite job store: the completion of job {JobId} (attempt {Attempt}) did not commit; its worker had gone on, so the job runs again when its lease expires.")]
    public static partial void DetachedCompletionFailed(ILogger logger, Exception exception, JobId jobId, int attempt);

    [LoggerMessage(112, LogLevel.Information, "SQLite job store: the status of {Count} finished job(s) of queue '{Queue}' was evicted early, beyond its FinishedJobCapacity of {Capacity}.")]
    public static partial void StatusesEvicted(ILogger logger, int count, string queue, int capacity);
}
