using AsyncQueue.RateLimiting;
using AsyncQueue.Retry;

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

    /// <summary>Gets or sets the retry policy of this queue's jobs, unless their job type sets its own (<see cref="JobOptions.Retry"/>).</summary>
    /// <value>The default value is <see cref="RetryPolicy.Default"/>: 3 retries with exponential backoff from 1 second.</value>
    public IRetryPolicy Retry { get; set; } = RetryPolicy.Default;

    /// <summary>Gets or sets how long one attempt may run before its cancellation token is cancelled; the attempt then fails and may be retried.</summary>
    /// <value>The default value is <see langword="null"/>: no timeout. Range: more than zero.</value>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// Gets or sets how long a timed-out handler that ignores its token may keep its worker. After that the worker
    /// abandons it (logged and counted), the attempt counts as failed, and the worker takes the next job; the
    /// abandoned handler runs on unobserved until it returns.
    /// </summary>
    /// <value>The default value is 30 seconds. Range: zero or more.</value>
    public TimeSpan AbandonAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how many of this queue's jobs may start per period, for the whole queue or per key. A job over the
    /// limit waits (still waiting, for status and cancel) until a window has room; it is never failed or dropped.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: no limit, and no cost. A store with
    /// <see cref="Storage.JobStoreCapabilities.SharedRateLimits"/> enforces a queue-wide limit across every process that
    /// shares it; otherwise, and for per-key limits, each process enforces it alone.
    /// </value>
    public JobRateLimit? RateLimit { get; set; }

    /// <summary>Gets or sets the dead-letter queue that receives this queue's jobs when they fail for good.</summary>
    /// <value>The default value is <see langword="null"/>: the queue's name followed by <c>-dead-letter</c>.</value>
    public string? DeadLetterQueue { get; set; }

    /// <summary>Gets or sets how long a dead-lettered job is kept before it is evicted (logged and counted).</summary>
    /// <value>The default value is 14 days. Range: more than zero.</value>
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Gets or sets how many dead-lettered jobs the dead-letter queue keeps; past that the oldest is evicted (logged and counted).</summary>
    /// <value>The default value is 10,000. Range: 1 or more.</value>
    public int DeadLetterCapacity { get; set; } = 10_000;

    /// <summary>Gets or sets how long an idempotency key of a succeeded job keeps refusing duplicates.</summary>
    /// <value>The default value is 24 hours. Range: zero or more.</value>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Gets or sets how long a finished job's status (succeeded or cancelled; see <see cref="Monitoring.IJobQueueMonitor.GetJobAsync"/>)
    /// is kept. Dead-lettered jobs are kept by their dead-letter queue instead.
    /// </summary>
    /// <value>The default value is 24 hours. Range: zero or more; zero keeps none.</value>
    public TimeSpan FinishedJobRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The number of finished jobs' statuses a durable store keeps when <see cref="FinishedJobCapacity"/> is not set.</summary>
    public const int DurableFinishedJobCapacity = 10_000;

    /// <summary>
    /// Gets or sets how many finished jobs' statuses are kept at most; past that the oldest are evicted early (counted
    /// by the <c>asyncqueue.job.status.evicted</c> metric). The in-memory store splits this among the queue's workers.
    /// </summary>
    /// <value>
    /// The default value, <see langword="null"/>, keeps <see cref="DurableFinishedJobCapacity"/> (10,000) in a durable
    /// store and none in the in-memory store, which keeps them only when a capacity is set here: recording each finished
    /// job costs its no-op dispatch about a quarter of its speed, a price paid only when asked for. Range: zero or more;
    /// zero keeps none.
    /// </value>
    public int? FinishedJobCapacity { get; set; }

    /// <summary>How many finished jobs' statuses a store keeps for this queue: the capacity set, or the store's default.</summary>
    internal int FinishedJobsKept(bool durable) => FinishedJobCapacity ?? (durable ? DurableFinishedJobCapacity : 0);
}
