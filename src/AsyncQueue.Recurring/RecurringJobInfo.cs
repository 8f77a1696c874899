namespace AsyncQueue.Recurring;

/// <summary>A recurring job as this process runs it (see <see cref="IRecurringJobs"/>).</summary>
public sealed class RecurringJobInfo
{
    internal RecurringJobInfo(string name, string cron, TimeZoneInfo timeZone, bool paused, DateTimeOffset? nextRun, DateTimeOffset? lastRun)
    {
        Name = name;
        Cron = cron;
        TimeZone = timeZone;
        Paused = paused;
        NextRun = nextRun;
        LastRun = lastRun;
    }

    /// <summary>Gets the job's unique name.</summary>
    public string Name { get; }

    /// <summary>Gets the cron expression, as given.</summary>
    public string Cron { get; }

    /// <summary>Gets the time zone the cron expression is read in.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>Gets a value indicating whether the job is paused in this process.</summary>
    public bool Paused { get; }

    /// <summary>Gets the next tick, in UTC, or <see langword="null"/> when paused, not started yet, or the expression has no more ticks.</summary>
    public DateTimeOffset? NextRun { get; }

    /// <summary>Gets the last tick this process enqueued or found enqueued by another process, in UTC; <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastRun { get; }
}
