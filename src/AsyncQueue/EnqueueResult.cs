namespace AsyncQueue;

/// <summary>The outcome of one enqueue.</summary>
/// <param name="JobId">The id of the job that will run.</param>
/// <param name="Status">Whether the job was accepted.</param>
public readonly record struct EnqueueResult(JobId JobId, EnqueueStatus Status)
{
    /// <summary>Gets a value indicating whether this enqueue created a new job that will run.</summary>
    public bool Accepted => Status == EnqueueStatus.Accepted;
}
