namespace AsyncQueue;

/// <summary>Thrown when a job is sent to a queue name that no handler registration or <c>ConfigureQueue</c> call declared.</summary>
public sealed class QueueNotConfiguredException : InvalidOperationException
{
    /// <summary>Initializes a new instance for the given queue name.</summary>
    /// <param name="queue">The unknown queue name.</param>
    public QueueNotConfiguredException(string queue)
        : base($"Queue '{queue}' is not configured. Declare it with services.AddJobQueue().ConfigureQueue(\"{queue}\", ...) so that it has workers.")
    {
        Queue = queue;
    }

    /// <summary>Gets the unknown queue name.</summary>
    public string Queue { get; }
}
