namespace AsyncQueue;

/// <summary>
/// Thrown by a handler to say a job can never succeed (an invalid address, a missing record): it is dead-lettered
/// at once, without retries, whatever the retry policy.
/// </summary>
public class PermanentJobException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public PermanentJobException()
        : base("The job failed permanently.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">Why the job can never succeed.</param>
    public PermanentJobException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception behind it.</summary>
    /// <param name="message">Why the job can never succeed.</param>
    /// <param name="innerException">The exception behind it.</param>
    public PermanentJobException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
