namespace AsyncQueue.Storage;

/// <summary>
/// Thrown when an attempt tries to record its outcome (complete, retry, dead-letter) after it lost its lease: the
/// lease expired and the job was rescued, so a newer attempt owns it. The late outcome is discarded, never stored.
/// </summary>
public sealed class JobLeaseLostException : InvalidOperationException
{
    /// <summary>Initializes a new instance.</summary>
    public JobLeaseLostException()
        : base("The attempt lost its lease; its outcome was discarded.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What was discarded.</param>
    public JobLeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception behind it.</summary>
    /// <param name="message">What was discarded.</param>
    /// <param name="innerException">The exception behind it.</param>
    public JobLeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance for one job's attempt.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="attempt">The attempt that lost its lease.</param>
    /// <param name="operation">The outcome that was discarded, such as <c>complete</c>.</param>
    public JobLeaseLostException(JobId jobId, int attempt, string operation)
        : base($"Attempt {attempt} of job {jobId} lost its lease (it expired and the job was rescued, so a newer attempt owns it); its outcome ({operation}) was discarded.")
    {
        JobId = jobId;
        Attempt = attempt;
    }

    /// <summary>Gets the job whose attempt lost its lease.</summary>
    public JobId JobId { get; }

    /// <summary>Gets the attempt that lost its lease.</summary>
    public int Attempt { get; }
}
