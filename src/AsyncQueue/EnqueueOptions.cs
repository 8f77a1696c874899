namespace AsyncQueue;

/// <summary>Per-enqueue settings that override the job type's defaults. Each property is checked when it is set.</summary>
public sealed class EnqueueOptions
{
    private readonly string? _idempotencyKey;
    private readonly TimeSpan? _delay;
    private readonly int? _maxAttempts;
    private readonly JobPriority _priority = JobPriority.Normal;

    /// <summary>Gets the queue to send the job to instead of its job type's queue.</summary>
    /// <value>The default value is <see langword="null"/>: the queue the job type was registered with.</value>
    public string? Queue { get; init; }

    /// <summary>
    /// Gets the idempotency key. While a job with this key is waiting, running, or succeeded within the queue's
    /// <see cref="QueueOptions.IdempotencyRetention"/>, another enqueue with it is not run: its result is
    /// <see cref="EnqueueStatus.Duplicate"/> with the original job's id.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no key.</value>
    /// <exception cref="ArgumentException">The key is empty or white space.</exception>
    public string? IdempotencyKey
    {
        get => _idempotencyKey;
        init
        {
            if (value is not null && string.IsNullOrWhiteSpace(value))
            {
                throw new ArgumentException("IdempotencyKey must not be empty or white space; leave it null for no key.", nameof(IdempotencyKey));
            }

            _idempotencyKey = value;
        }
    }

    /// <summary>Gets how long to wait before the job may start.</summary>
    /// <value>The default value is <see langword="null"/>: at once.</value>
    /// <exception cref="ArgumentOutOfRangeException">The delay is negative.</exception>
    public TimeSpan? Delay
    {
        get => _delay;
        init
        {
            if (value < TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(Delay), value, "Delay must not be negative.");
            }

            _delay = value;
        }
    }

    /// <summary>Gets the earliest time the job may start. Not to be combined with <see cref="Delay"/>.</summary>
    /// <value>The default value is <see langword="null"/>: at once.</value>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Gets the most attempts this job may make, overriding its retry policy's limit.</summary>
    /// <value>The default value is <see langword="null"/>: the retry policy decides. Range: 1 or more.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? MaxAttempts
    {
        get => _maxAttempts;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, "MaxAttempts must be at least 1.");
            }

            _maxAttempts = value;
        }
    }

    /// <summary>Gets how urgent the job is within its queue: a worker takes the most urgent due job first (see <see cref="JobPriority"/>).</summary>
    /// <value>The default value is <see cref="JobPriority.Normal"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not one of <see cref="JobPriority"/>'s.</exception>
    public JobPriority Priority
    {
        get => _priority;
        init
        {
            if (value is < JobPriority.Low or > JobPriority.Urgent)
            {
                throw new ArgumentOutOfRangeException(nameof(Priority), value, "Priority must be Low, Normal, High or Urgent.");
            }

            _priority = value;
        }
    }
}
