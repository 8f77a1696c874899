namespace AsyncQueue.Storage;

/// <summary>
/// The failure recorded for an attempt whose lease expired without a heartbeat: the process running it crashed, was
/// killed or stalled. It counts as a failed attempt; a custom <see cref="Retry.IRetryPolicy"/> receives it to decide.
/// </summary>
public sealed class JobLeaseExpiredException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public JobLeaseExpiredException()
        : base("The process crashed or the lease expired.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">Which attempt's lease expired, and when.</param>
    public JobLeaseExpiredException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception behind it.</summary>
    /// <param name="message">Which attempt's lease expired, and when.</param>
    /// <param name="innerException">The exception behind it.</param>
    public JobLeaseExpiredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
