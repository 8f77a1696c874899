using Microsoft.Extensions.Logging;

namespace AsyncQueue.Redis.Diagnostics;

/// <summary>
/// Every log line the Redis store writes, source-generated, with stable event ids (300 and up, apart from the core's
/// and the other stores'; ids of removed messages are not reused). Job payloads are never logged: only ids, kinds and queues.
/// </summary>
internal static partial class RedisLog
{
    [LoggerMessage(301, LogLevel.Information, "Redis job store connected to {Endpoint} (Redis {Version}), key prefix '{Prefix}'; persistence: {Persistence}.")]
    public static partial void Connected(ILogger logger, string endpoint, string version, string prefix, string persistence);

    [LoggerMessage(302, LogLevel.Warning, "Redis at {Endpoint} can lose accepted jobs if Redis itself crashes: {Why} For at-least-once delivery across a crash of Redis, set 'appendonly yes' and 'appendfsync always'.")]
    public static partial void JobsMayBeLost(ILogger logger, string endpoint, string why);

    [LoggerMessage(303, LogLevel.Warning, "Redis at {Endpoint} refused CONFIG GET ({Error}), so the store cannot tell whether a crash of Redis loses accepted jobs; check that the server runs with 'appendonly yes' and 'appendfsync always'.")]
    public static partial void PersistenceUnknown(ILogger logger, string endpoint, string error);

    [LoggerMessage(304, LogLevel.Warning, "Dead-letter queue '{DeadLetterQueue}' evicted job {JobId} ({Kind}): {Reason}.")]
    public static partial void DeadLetterEvicted(ILogger logger, string deadLetterQueue, JobId jobId, string kind, string reason);

    [LoggerMessage(305, LogLevel.Error, "The Redis job store failed to {Operation} for queue '{Queue}'; it tries again.")]
    public static partial void OperationFailed(ILogger logger, Exception exception, string operation, string queue);

    [LoggerMessage(306, LogLevel.Information, "Redis job store closed: {Released} leased job(s) that no worker had started were handed back.")]
    public static partial void Closed(ILogger logger, int released);

    [LoggerMessage(307, LogLevel.Information, "Redis at {Endpoint} no longer knew the store's script '{Script}' (restarted or flushed); it was loaded again.")]
    public static partial void ScriptReloaded(ILogger logger, string endpoint, string script);

    [LoggerMessage(308, LogLevel.Warning, "Job {JobId} ({Kind}) of queue '{Queue}' completed attempt {Attempt}, but its lease had been taken over meanwhile (this process stalled or lost Redis): the completion was discarded and the job's newer attempt decides its fate.")]
    public static partial void CompletionDiscarded(ILogger logger, JobId jobId, string kind, string queue, int attempt);
}
