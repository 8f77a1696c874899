using Cronos;

namespace AsyncQueue.Recurring.Scheduling;

/// <summary>One recurring job as registered: its parsed schedule, settings copied at registration, and how to enqueue it.</summary>
internal sealed class RecurringJobDefinition(
    string name,
    string cron,
    CronExpression expression,
    Type jobType,
    RecurringJobOptions options,
    Func<IJobQueue, EnqueueOptions?, CancellationToken, ValueTask<EnqueueResult>> enqueue)
{
    public string Name { get; } = name;

    public string Cron { get; } = cron;

    public CronExpression Expression { get; } = expression;

    public Type JobType { get; } = jobType;

    // Copied, so that changing the options object after registration changes nothing.
    public TimeZoneInfo TimeZone { get; } = options.TimeZone;

    public RecurringMisfirePolicy Misfire { get; } = options.Misfire;

    public TimeSpan MisfireThreshold { get; } = options.MisfireThreshold;

    public EnqueueOptions? Enqueue { get; } = options.Enqueue;

    /// <summary>The idempotency key of one tick: the store refuses a second job with it, whichever process enqueues it.</summary>
    public string KeyOf(DateTimeOffset tick) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"recurring:{Name}:{tick.UtcDateTime:O}");

    public ValueTask<EnqueueResult> EnqueueTickAsync(IJobQueue queue, DateTimeOffset tick, CancellationToken cancellationToken) =>
        enqueue(queue, WithKey(KeyOf(tick)), cancellationToken);

    public ValueTask<EnqueueResult> EnqueueNowAsync(IJobQueue queue, CancellationToken cancellationToken) =>
        enqueue(queue, Enqueue, cancellationToken);

    // EnqueueOptions is init-only; every setting is carried over (registration refuses a key or a NotBefore of its own).
    private EnqueueOptions WithKey(string key) => new()
    {
        Queue = Enqueue?.Queue,
        Delay = Enqueue?.Delay,
        MaxAttempts = Enqueue?.MaxAttempts,
        Priority = Enqueue?.Priority ?? JobPriority.Normal,
        IdempotencyKey = key,
    };
}
