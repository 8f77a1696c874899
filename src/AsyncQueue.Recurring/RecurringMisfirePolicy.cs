namespace AsyncQueue.Recurring;

/// <summary>What a recurring job does about ticks it missed: the process was down, or stalled past <see cref="RecurringJobOptions.MisfireThreshold"/>.</summary>
public enum RecurringMisfirePolicy
{
    /// <summary>Enqueue one job now for all the missed ticks (keyed by the latest of them), then keep to the schedule.</summary>
    FireOnceNow = 0,

    /// <summary>Enqueue nothing for the missed ticks; the next run is the next tick.</summary>
    Skip = 1,
}
