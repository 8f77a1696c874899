namespace AsyncQueue;

/// <summary>
/// Thrown by <see cref="IJobQueue.ContinueWithAsync"/> when the store knows no job with the parent's id: it was never
/// enqueued, or it finished so long ago that its status is no longer kept (<see cref="QueueOptions.FinishedJobRetention"/>).
/// Nothing was enqueued.
/// </summary>
public sealed class ParentJobNotFoundException : InvalidOperationException
{
    /// <summary>Initializes a new instance for the parent's id.</summary>
    /// <param name="parentId">The id no job has.</param>
    public ParentJobNotFoundException(JobId parentId)
        : base($"No job with id {parentId} is known, so no continuation of it can be enqueued. A finished parent is known only while its status is kept (QueueOptions.FinishedJobRetention and FinishedJobCapacity).")
    {
        ParentId = parentId;
    }

    /// <summary>Gets the parent's id.</summary>
    public JobId ParentId { get; }
}
