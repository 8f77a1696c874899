using Microsoft.Extensions.Logging;

namespace AsyncQueue.Recurring.Diagnostics;

/// <summary>The recurring jobs' log messages, with stable event ids (501 to 599).</summary>
internal static partial class RecurringLog
{
    [LoggerMessage(501, LogLevel.Debug, "Recurring job '{Name}' enqueued its tick {Tick:O} as job {JobId}.")]
    public static partial void TickEnqueued(ILogger logger, string name, DateTimeOffset tick, JobId jobId);

    [LoggerMessage(502, LogLevel.Debug, "Recurring job '{Name}': tick {Tick:O} was enqueued already, by another process or before a restart, as job {JobId}.")]
    public static partial void TickDuplicate(ILogger logger, string name, DateTimeOffset tick, JobId jobId);

    [LoggerMessage(503, LogLevel.Information, "Recurring job '{Name}' missed ticks up to {Tick:O}; one job is enqueued for them now.")]
    public static partial void MissedFiredOnce(ILogger logger, string name, DateTimeOffset tick);

    [LoggerMessage(504, LogLevel.Information, "Recurring job '{Name}' missed ticks up to {Tick:O}; they are skipped.")]
    public static partial void MissedSkipped(ILogger logger, string name, DateTimeOffset tick);

    [LoggerMessage(505, LogLevel.Error, "Recurring job '{Name}' failed to enqueue its tick {Tick:O}; it is tried again in {RetryDelay}.")]
    public static partial void EnqueueFailed(ILogger logger, Exception exception, string name, DateTimeOffset tick, TimeSpan retryDelay);
}
