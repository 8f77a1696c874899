namespace AsyncQueue;

/// <summary>The failure of one attempt of a job, kept with the job and shown in its dead-letter entry.</summary>
/// <param name="Attempt">The attempt that failed, starting at 1.</param>
/// <param name="At">When it failed.</param>
/// <param name="ExceptionType">The full name of the exception's type.</param>
/// <param name="Message">The exception's message.</param>
/// <param name="StackTrace">The exception's stack trace, if any.</param>
public sealed record JobError(int Attempt, DateTimeOffset At, string ExceptionType, string Message, string? StackTrace)
{
    /// <summary>Describes an exception thrown by an attempt.</summary>
    /// <param name="attempt">The attempt that failed.</param>
    /// <param name="at">When it failed.</param>
    /// <param name="exception">The exception.</param>
    /// <returns>The error.</returns>
    public static JobError FromException(int attempt, DateTimeOffset at, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new JobError(attempt, at, exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace);
    }
}
