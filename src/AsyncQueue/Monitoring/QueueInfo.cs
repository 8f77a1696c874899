namespace AsyncQueue.Monitoring;

/// <summary>A configured queue and its settings, as the workers run it (see <see cref="QueueOptions"/>).</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="MaxConcurrency">How many of its jobs run at once in this process.</param>
/// <param name="Capacity">How many waiting jobs it holds at most, or <see langword="null"/> for no bound.</param>
/// <param name="FullMode">What an enqueue does when a bounded queue is full.</param>
/// <param name="Timeout">How long an attempt may run, or <see langword="null"/> for no limit.</param>
/// <param name="IdempotencyRetention">How long a succeeded job's idempotency key keeps refusing duplicates.</param>
/// <param name="DeadLetterQueue">Where its failed jobs go.</param>
/// <param name="DeadLetterRetention">How long a dead letter is kept.</param>
/// <param name="DeadLetterCapacity">How many dead letters are kept at most.</param>
/// <param name="FinishedJobRetention">How long a finished job's status is kept.</param>
/// <param name="FinishedJobCapacity">How many finished jobs' statuses this store keeps at most (see <see cref="QueueOptions.FinishedJobCapacity"/>).</param>
public sealed record QueueInfo(
    string Name,
    int MaxConcurrency,
    int? Capacity,
    QueueFullMode FullMode,
    TimeSpan? Timeout,
    TimeSpan IdempotencyRetention,
    string DeadLetterQueue,
    TimeSpan DeadLetterRetention,
    int DeadLetterCapacity,
    TimeSpan FinishedJobRetention,
    int FinishedJobCapacity);
