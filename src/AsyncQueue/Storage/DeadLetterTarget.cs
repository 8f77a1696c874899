namespace AsyncQueue.Storage;

/// <summary>Where a failed job goes and how long that dead-letter queue keeps it, as the dispatcher decides it. For store implementations.</summary>
/// <param name="Name">The dead-letter queue's name.</param>
/// <param name="Retention">How long an entry is kept before it is evicted.</param>
/// <param name="Capacity">How many entries are kept before the oldest is evicted.</param>
public sealed record DeadLetterTarget(string Name, TimeSpan Retention, int Capacity);
