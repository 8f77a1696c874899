namespace AsyncQueue.Retry;

/// <summary>The verdict of an <see cref="IRetryPolicy"/>: retry at a time, or give up.</summary>
public readonly record struct RetryDecision
{
    private RetryDecision(bool retry, DateTimeOffset runAt)
    {
        ShouldRetry = retry;
        RunAt = runAt;
    }

    /// <summary>Gets the decision to give up: the job goes to its dead-letter queue.</summary>
    public static RetryDecision GiveUp => default;

    /// <summary>Gets a value indicating whether the job runs again.</summary>
    public bool ShouldRetry { get; }

    /// <summary>Gets the earliest time of the next attempt, when <see cref="ShouldRetry"/> is true.</summary>
    public DateTimeOffset RunAt { get; }

    /// <summary>Runs the job again, not before <paramref name="runAt"/>.</summary>
    /// <param name="runAt">The earliest time of the next attempt.</param>
    /// <returns>The decision.</returns>
    public static RetryDecision RetryAt(DateTimeOffset runAt) => new(true, runAt);
}
