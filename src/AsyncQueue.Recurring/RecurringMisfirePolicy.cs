namespace AsyncQueue.Recurring;

/// <summary>What a recurring job does about ticks it missed: the process was down, or stalled past <see cref="RecurringJobOptions.MisfireThreshold"/>.</summary>
public enum RecurringMisfirePolicy
{
    /// <summary>Enqueue nothing for the missed ticks; the next run is the next tick.</summary>
    Skip = 0,

    /// <summary>
    /// Enqueue one job now for all the missed ticks (keyed by the latest of them), then keep to the schedule. On a
    /// durable store a starting process also offers the store the latest past tick within the shortest
    /// <see cref="QueueOptions.IdempotencyRetention"/>; the store refuses it if it was enqueued, so a restart runs a
    /// tick that every process missed, and a schedule's first start runs its latest past tick.
    /// </summary>
    FireOnceNow = 1,
}
