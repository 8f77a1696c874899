namespace AsyncQueue.Retry;

/// <summary>
/// The built-in retry policy: a number of retries with a fixed or exponentially growing delay, capped, plus jitter
/// added after the computed delay (never shortening it), and a predicate choosing which exceptions are retried.
/// </summary>
/// <remarks>
/// A <see cref="PermanentJobException"/> is never retried, whatever the policy. Every property is checked when it
/// is set, so a bad value fails where it is written, with the property's name.
/// </remarks>
public sealed class RetryPolicy : IRetryPolicy
{
    private readonly int _maxRetries = 3;
    private readonly TimeSpan _delay = TimeSpan.FromSeconds(1);
    private readonly TimeSpan _maxDelay = TimeSpan.FromMinutes(5);
    private readonly double _jitter = 0.2;
    private readonly Lock _randomGate = new();

    /// <summary>Gets the policy that never retries: the first failure dead-letters the job.</summary>
    public static RetryPolicy None { get; } = new() { MaxRetries = 0 };

    /// <summary>Gets the default policy: 3 retries, exponential from 1 second, capped at 5 minutes, up to 20% jitter.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>Gets how many times a failed job runs again; the job makes at most <c>MaxRetries + 1</c> attempts.</summary>
    /// <value>The default value is 3. Range: 0 to 1,000.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above 1,000.</exception>
    public int MaxRetries
    {
        get => _maxRetries;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxRetries));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000, nameof(MaxRetries));
            _maxRetries = value;
        }
    }

    /// <summary>Gets how the delay grows between retries.</summary>
    /// <value>The default value is <see cref="RetryBackoff.Exponential"/>.</value>
    public RetryBackoff Backoff { get; init; } = RetryBackoff.Exponential;

    /// <summary>Gets the delay before the first retry (and every retry, with <see cref="RetryBackoff.Fixed"/>).</summary>
    /// <value>The default value is 1 second. Range: zero or more.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan Delay
    {
        get => _delay;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(Delay));
            _delay = value;
        }
    }

    /// <summary>Gets the longest delay exponential growth may reach, before jitter.</summary>
    /// <value>The default value is 5 minutes. Range: zero or more.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(MaxDelay));
            _maxDelay = value;
        }
    }

    /// <summary>Gets the largest jitter, as a fraction of the computed delay, added to it so that failed jobs do not retry in lockstep.</summary>
    /// <value>The default value is 0.2 (up to 20% later). Range: 0 to 1.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0 to 1.</exception>
    public double Jitter
    {
        get => _jitter;
        init
        {
            if (double.IsNaN(value) || value < 0 || value > 1)
            {
                throw new ArgumentOutOfRangeException(nameof(Jitter), value, "Jitter must be between 0 and 1 (a fraction of the delay).");
            }

            _jitter = value;
        }
    }

    /// <summary>
    /// Gets the predicate choosing which exceptions are retried; the others dead-letter the job at once. A crash (a
    /// <see cref="Storage.JobLeaseExpiredException"/>) is not the handler's exception and is always retried within the limit.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: every exception but <see cref="PermanentJobException"/> is retried.</value>
    public Func<Exception, bool>? ShouldRetry { get; init; }

    /// <summary>Gets the source of jitter. Set a seeded <see cref="System.Random"/> to make the schedule reproducible in tests.</summary>
    /// <value>The default value is <see langword="null"/>: a shared, thread-safe source.</value>
    public Random? Random { get; init; }

    /// <summary>Creates a policy with a fixed delay and no jitter.</summary>
    /// <param name="maxRetries">How many times a failed job runs again.</param>
    /// <param name="delay">The delay before each retry.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Fixed(int maxRetries, TimeSpan delay) => new() { MaxRetries = maxRetries, Backoff = RetryBackoff.Fixed, Delay = delay, Jitter = 0 };

    /// <summary>Creates a policy whose delay doubles from <paramref name="delay"/> up to <paramref name="maxDelay"/>.</summary>
    /// <param name="maxRetries">How many times a failed job runs again.</param>
    /// <param name="delay">The delay before the first retry.</param>
    /// <param name="maxDelay">The cap on the delay, before jitter; 5 minutes when <see langword="null"/>.</param>
    /// <param name="jitter">The largest jitter, as a fraction of the delay.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Exponential(int maxRetries, TimeSpan delay, TimeSpan? maxDelay = null, double jitter = 0.2) =>
        new() { MaxRetries = maxRetries, Backoff = RetryBackoff.Exponential, Delay = delay, MaxDelay = maxDelay ?? TimeSpan.FromMinutes(5), Jitter = jitter };

    /// <inheritdoc />
    public RetryDecision Decide(in RetryArguments arguments)
    {
        var maxAttempts = arguments.MaxAttempts ?? (MaxRetries + 1);
        // A crash (a lease that expired with its process) is not the handler's exception: the filter does not see it.
        if (arguments.Attempt >= maxAttempts
            || arguments.Exception is PermanentJobException
            || (arguments.Exception is not Storage.JobLeaseExpiredException && ShouldRetry is { } retry && !retry(arguments.Exception)))
        {
            return RetryDecision.GiveUp;
        }

        return RetryDecision.RetryAt(arguments.Now + GetDelay(arguments.Attempt));
    }

    /// <summary>The delay after the given failed attempt: the backoff, capped, then jitter on top.</summary>
    /// <param name="attempt">The attempt that failed, starting at 1.</param>
    /// <returns>The delay before the next attempt.</returns>
    public TimeSpan GetDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var delay = Backoff == RetryBackoff.Fixed ? Delay : RetryBackoffMath.Exponential(Delay, MaxDelay, attempt);
        return Jitter == 0 || delay == TimeSpan.Zero ? delay : delay + (delay * (Jitter * NextDouble()));
    }

    private double NextDouble()
    {
        if (Random is null)
        {
#pragma warning disable RS0030 // Random.Shared is thread-safe; tests inject a seeded Random through the Random property instead.
            return System.Random.Shared.NextDouble();
#pragma warning restore RS0030
        }

        // A seeded Random is not thread-safe, and several workers may fail at once; this runs only on failures.
        lock (_randomGate)
        {
            return Random.NextDouble();
        }
    }
}
