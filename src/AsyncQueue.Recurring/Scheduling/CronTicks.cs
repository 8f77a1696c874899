using Cronos;

namespace AsyncQueue.Recurring.Scheduling;

/// <summary>Tick arithmetic on a Cronos expression, which computes every occurrence (time zones and daylight saving included).</summary>
internal static class CronTicks
{
    /// <summary>The ticks in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first.</summary>
    public static IEnumerable<DateTimeOffset> Between(RecurringJobDefinition job, DateTimeOffset after, DateTimeOffset upTo) =>
        after >= upTo ? [] : job.Expression.GetOccurrences(after, upTo, job.TimeZone, fromInclusive: false, toInclusive: true);

    /// <summary>The latest tick in (<paramref name="after"/>, <paramref name="upTo"/>], or <see langword="null"/>.</summary>
    /// <remarks>
    /// Cronos has no "previous occurrence", and enumerating a day of a per-second schedule to find its last tick would
    /// take 86,400 steps; so the window before <paramref name="upTo"/> doubles until it holds a tick, which keeps the
    /// enumeration to about as many ticks as the schedule has in twice the gap before its latest one.
    /// </remarks>
    public static DateTimeOffset? Latest(RecurringJobDefinition job, DateTimeOffset after, DateTimeOffset upTo)
    {
        for (var window = TimeSpan.FromSeconds(1); ; window += window)
        {
            var from = upTo - after <= window ? after : upTo - window;
            DateTimeOffset? latest = null;
            foreach (var tick in Between(job, from, upTo))
            {
                latest = tick;
            }

            if (latest is not null || from == after)
            {
                return latest;
            }
        }
    }

    /// <summary>The first tick after <paramref name="after"/>, or <see langword="null"/> when the expression has no more.</summary>
    public static DateTimeOffset? Next(RecurringJobDefinition job, DateTimeOffset after) =>
        job.Expression.GetNextOccurrence(after, job.TimeZone);
}
