namespace AsyncQueue;

/// <summary>Thrown when a job is enqueued whose type has no registered handler.</summary>
public sealed class JobTypeNotRegisteredException : InvalidOperationException
{
    /// <summary>Initializes a new instance for the given job type.</summary>
    /// <param name="jobType">The job type that has no handler.</param>
    public JobTypeNotRegisteredException(Type jobType)
        : base($"No handler is registered for job type '{jobType?.FullName}'. Register one with services.AddJobQueue().AddHandler<{jobType?.Name}, THandler>().")
    {
        JobType = jobType ?? throw new ArgumentNullException(nameof(jobType));
    }

    /// <summary>Gets the job type that has no handler.</summary>
    public Type JobType { get; }
}
