namespace AsyncQueue.Retry;

/// <summary>How the delay between attempts grows.</summary>
public enum RetryBackoff
{
    /// <summary>The same delay before every retry.</summary>
    Fixed = 0,

    /// <summary>The delay doubles with each retry, up to <see cref="RetryPolicy.MaxDelay"/>.</summary>
    Exponential = 1,
}
