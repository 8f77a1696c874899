namespace AsyncQueue.Retry;

/// <summary>What an <see cref="IRetryPolicy"/> knows about a failed attempt. A struct, so that fields can be added later without breaking policies.</summary>
public readonly struct RetryArguments
{
    /// <summary>Initializes the arguments.</summary>
    /// <param name="exception">The exception the attempt ended with.</param>
    /// <param name="attempt">The attempt that failed, starting at 1.</param>
    /// <param name="maxAttempts">The per-enqueue limit on attempts, or <see langword="null"/> to use the policy's own.</param>
    /// <param name="kind">The job's kind.</param>
    /// <param name="queue">The job's queue.</param>
    /// <param name="now">The time now, from the queue's <see cref="TimeProvider"/>.</param>
    public RetryArguments(Exception exception, int attempt, int? maxAttempts, string kind, string queue, DateTimeOffset now)
    {
        Exception = exception;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        Kind = kind;
        Queue = queue;
        Now = now;
    }

    /// <summary>Gets the exception the attempt ended with.</summary>
    public Exception Exception { get; }

    /// <summary>Gets the attempt that failed, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>Gets the per-enqueue limit on attempts (<see cref="EnqueueOptions.MaxAttempts"/>), or <see langword="null"/>.</summary>
    public int? MaxAttempts { get; }

    /// <summary>Gets the job's kind.</summary>
    public string Kind { get; }

    /// <summary>Gets the job's queue.</summary>
    public string Queue { get; }

    /// <summary>Gets the time now, from the queue's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset Now { get; }
}
