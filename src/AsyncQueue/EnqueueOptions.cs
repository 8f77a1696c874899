namespace AsyncQueue;

/// <summary>Per-enqueue settings that override the job type's defaults.</summary>
public sealed class EnqueueOptions
{
    /// <summary>Gets the queue to send the job to instead of its job type's queue.</summary>
    /// <value>The default value is <see langword="null"/>: the queue the job type was registered with.</value>
    public string? Queue { get; init; }
}
