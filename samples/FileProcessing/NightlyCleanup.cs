using AsyncQueue;
using AsyncQueue.Recurring;

namespace FileProcessing;

/// <summary>
/// The recurring job that keeps the output folder from growing forever: every night at 03:00 Berlin time (03:00 CET in
/// winter, 03:00 CEST in summer; the time zone, not UTC, is what keeps it at night all year) it deletes the compressed
/// files older than a week.
/// </summary>
public static class NightlyCleanup
{
    /// <summary>The recurring job's name.</summary>
    public const string Name = "nightly-cleanup";

    /// <summary>03:00 every day (minute, hour, day of month, month, day of week).</summary>
    public const string Cron = "0 3 * * *";

    /// <summary>The zone the cron expression is read in.</summary>
    public static readonly TimeZoneInfo TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    /// <summary>How old a compressed file may get.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);

    /// <summary>Registers the cleanup of <paramref name="outputFolder"/> on the job queue.</summary>
    /// <param name="queue">The job queue's builder.</param>
    /// <param name="outputFolder">The folder of compressed files.</param>
    /// <returns>The builder.</returns>
    public static IJobQueueBuilder AddNightlyCleanup(this IJobQueueBuilder queue, string outputFolder) => queue
        .AddHandler<CleanupProcessed, CleanupProcessedHandler>()
        .AddRecurringJob(Name, Cron, () => new CleanupProcessed(outputFolder, MaxAge), o => o.TimeZone = TimeZone);

    /// <summary>The line the program prints about it, with its next run in Berlin time.</summary>
    /// <param name="jobs">The running recurring jobs.</param>
    /// <returns>The line.</returns>
    public static string Describe(IRecurringJobs jobs)
    {
        var next = jobs.List().Single(j => j.Name == Name).NextRun;
        var when = next is { } utc ? TimeZoneInfo.ConvertTime(utc, TimeZone).ToString("yyyy-MM-dd HH:mm zzz", System.Globalization.CultureInfo.InvariantCulture) : "not scheduled";
        return $"Nightly cleanup: .gz files older than {MaxAge.TotalDays:0} days are deleted at 03:00 {TimeZone.Id}; next run {when}.";
    }
}
