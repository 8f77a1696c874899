namespace AsyncQueue;

/// <summary>Settings of one named queue. Configure them with <c>AddHandler</c> or <c>ConfigureQueue</c>.</summary>
/// <remarks>Validated when the queue starts; an invalid value fails the start with a message that names the queue and the property.</remarks>
public class QueueOptions
{
    /// <summary>The largest <see cref="MaxConcurrency"/> accepted.</summary>
    public const int MaxConcurrencyLimit = 10_000;

    /// <summary>Gets or sets how many jobs of this queue may run at once; each is one worker.</summary>
    /// <value>The default value is <see cref="Environment.ProcessorCount"/>. Range: 1 to 10,000.</value>
    public int MaxConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>Gets or sets how many jobs may wait in this queue before an enqueue waits or throws.</summary>
    /// <value>The default value is <see langword="null"/>: unbounded. Range: 1 or more.</value>
    /// <remarks>Retries and delayed jobs that fall due are never refused: they were accepted already.</remarks>
    public int? Capacity { get; set; }

    /// <summary>Gets or sets what an enqueue does when <see cref="Capacity"/> is reached.</summary>
    /// <value>The default value is <see cref="QueueFullMode.Wait"/>.</value>
    public QueueFullMode FullMode { get; set; } = QueueFullMode.Wait;
}
