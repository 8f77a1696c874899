namespace AsyncQueue.Dashboard.Pages;

/// <summary>
/// What an action did, shown on the page it redirects to. The redirect carries a fixed code, never a message, so a
/// link cannot make the dashboard display text of the sender's choosing.
/// </summary>
internal static class Notices
{
    public const string Paused = "paused";
    public const string Resumed = "resumed";
    public const string Cancelled = "cancelled";
    public const string CancelRequested = "cancel-requested";
    public const string AlreadyFinished = "already-finished";
    public const string NotFound = "not-found";
    public const string Requeued = "requeued";
    public const string RequeuedAll = "requeued-all";
    public const string Deleted = "deleted";
    public const string Purged = "purged";
    public const string Gone = "gone";
    public const string SchedulePaused = "schedule-paused";
    public const string ScheduleResumed = "schedule-resumed";
    public const string Triggered = "triggered";
    public const string ScheduleRemoved = "schedule-removed";
    public const string ScheduleGone = "schedule-gone";

    public static string? Describe(string? code) => code switch
    {
        Paused => "Paused: the queue keeps accepting jobs and starts none, in every process, until it is resumed. Running jobs finish.",
        Resumed => "Resumed: the queue starts jobs again.",
        Cancelled => "Cancelled: the job will not run.",
        CancelRequested => "Cancellation requested: the running job's handler was told to stop, in whichever process runs it.",
        AlreadyFinished => "The job had already finished; nothing was changed.",
        NotFound => "No job has this id any more; nothing was changed.",
        Requeued => "Requeued: the job is back on its queue with a fresh attempt count.",
        RequeuedAll => "Requeued every job of the dead-letter queue.",
        Deleted => "Deleted the dead letter for good.",
        Purged => "Purged: every job of the dead-letter queue was deleted for good.",
        Gone => "No dead-letter queue holds that job any more; nothing was changed.",
        SchedulePaused => "Paused the schedule in this process: its ticks are skipped, never caught up, until it is resumed. Other processes keep their own schedules.",
        ScheduleResumed => "Resumed the schedule in this process: it runs again from its next tick.",
        Triggered => "Triggered: one job of the schedule was enqueued now, outside its ticks.",
        ScheduleRemoved => "Removed the schedule from this process: it enqueues no more jobs here until the app starts again. Jobs already enqueued still run.",
        ScheduleGone => "This process has no recurring job of that name any more; nothing was changed.",
        _ => null,
    };
}
