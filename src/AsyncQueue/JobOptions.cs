using AsyncQueue.Retry;

namespace AsyncQueue;

/// <summary>Settings of one job type that override its queue's. Configure them with <c>ConfigureJob&lt;TJob&gt;</c>.</summary>
public class JobOptions
{
    /// <summary>Gets or sets the retry policy for this job type.</summary>
    /// <value>The default value is <see langword="null"/>: the queue's <see cref="QueueOptions.Retry"/>.</value>
    public IRetryPolicy? Retry { get; set; }

    /// <summary>Gets or sets how long one attempt of this job type may run before its token is cancelled.</summary>
    /// <value>The default value is <see langword="null"/>: the queue's <see cref="QueueOptions.Timeout"/>.</value>
    public TimeSpan? Timeout { get; set; }
}
