namespace AsyncQueue.Recurring;

/// <summary>Settings of one recurring job. Checked when the job is added.</summary>
public class RecurringJobOptions
{
    /// <summary>Gets or sets the time zone the cron expression is read in; daylight-saving changes are handled as Cronos defines them.</summary>
    /// <value>The default value is <see cref="TimeZoneInfo.Utc"/>.</value>
    /// <remarks>
    /// In a zone with daylight-saving time, a tick in the hour skipped in spring runs once, right after the gap; a tick
    /// in the hour repeated in autumn runs once, in its first pass (an interval such as <c>*/30</c> in the hour field
    /// runs in both passes, as it names elapsed time rather than a wall-clock time).
    /// </remarks>
    public TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>Gets or sets what to do about ticks missed while no process was running the schedule, or the process stalled.</summary>
    /// <value>The default value is <see cref="RecurringMisfirePolicy.Skip"/>: no job runs but at a tick it was due.</value>
    public RecurringMisfirePolicy Misfire { get; set; } = RecurringMisfirePolicy.Skip;

    /// <summary>Gets or sets how late a tick may be enqueued and still count as on time rather than missed.</summary>
    /// <value>The default value is 1 minute. Range: zero to one day; keep it well below the job's queue's <see cref="QueueOptions.IdempotencyRetention"/>.</value>
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the per-enqueue settings of each job (queue, priority, attempts); its idempotency key must be left unset.</summary>
    /// <value>The default value is <see langword="null"/>: the job type's queue and defaults.</value>
    public EnqueueOptions? Enqueue { get; set; }
}
