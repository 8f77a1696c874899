using System.Diagnostics;
using System.Diagnostics.Metrics;
using AsyncQueue.Storage;

namespace AsyncQueue.Diagnostics;

/// <summary>
/// The queue's instruments, on the meter named <c>AsyncQueue</c>, created through <see cref="IMeterFactory"/> when DI
/// has one. Tags are low-cardinality: queue, job kind, operation, error type; never a job id. Names follow the
/// OpenTelemetry messaging semantic conventions v1.37.0 where they fit (<c>messaging.process.duration</c>,
/// <c>messaging.client.sent.messages</c>, <c>messaging.client.consumed.messages</c>, <c>messaging.destination.name</c>,
/// <c>messaging.operation.name</c>, <c>error.type</c>).
/// </summary>
/// <remarks>Every instrument is documented in docs/observability.md.</remarks>
internal sealed class JobQueueMetrics : IDisposable
{
    public const string MeterName = "AsyncQueue";

    private const string System = "asyncqueue";

    /// <summary>The <c>messaging.operation.name</c> of an enqueue, single or batch.</summary>
    public const string SendOperation = "send";

    /// <summary>The <c>messaging.operation.name</c> of an attempt: the job handed to its handler.</summary>
    public const string ProcessOperation = "process";

    // The OpenTelemetry messaging conventions' boundaries, in seconds: exporters' defaults are made for milliseconds.
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    };

    private readonly Meter _meter;

    public JobQueueMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Enqueued = _meter.CreateCounter<long>("asyncqueue.job.enqueued", "{job}", "Jobs accepted by an enqueue.");
        Duplicates = _meter.CreateCounter<long>("asyncqueue.job.duplicates", "{job}", "Enqueues refused because a live job holds their idempotency key.");
        Completed = _meter.CreateCounter<long>("asyncqueue.job.completed", "{job}", "Jobs whose attempt succeeded.");
        FailedAttempts = _meter.CreateCounter<long>("asyncqueue.job.failed_attempts", "{attempt}", "Attempts that failed (threw, timed out or were abandoned).");
        Retried = _meter.CreateCounter<long>("asyncqueue.job.retried", "{job}", "Failed jobs scheduled to run again.");
        DeadLettered = _meter.CreateCounter<long>("asyncqueue.job.dead_lettered", "{job}", "Jobs moved to a dead-letter queue.");
        DeadLetterEvictions = _meter.CreateCounter<long>("asyncqueue.dead_letter.evictions", "{job}", "Dead-lettered jobs evicted by the dead-letter queue's retention (age or count).");
        AbandonedHandlers = _meter.CreateCounter<long>("asyncqueue.job.abandoned", "{job}", "Timed-out handlers that ignored their cancellation token and were abandoned by their worker.");
        LeasesRescued = _meter.CreateCounter<long>("asyncqueue.job.lease_expired", "{job}", "Leases that expired without a heartbeat (a crashed, killed or stalled process), rescued by this process; charged as a failed attempt only to a job whose start was recorded.");
        LeasesLost = _meter.CreateCounter<long>("asyncqueue.job.lease_lost", "{job}", "Outcomes discarded, or starts refused, because the attempt had lost its lease to a newer one.");
        Unreadable = _meter.CreateCounter<long>("asyncqueue.job.unreadable", "{job}", "Stored jobs dead-lettered because their kind has no handler or their payload does not deserialize.");
        Cancelled = _meter.CreateCounter<long>("asyncqueue.job.cancelled", "{job}", "Jobs cancelled by id (IJobQueue.CancelAsync): dropped before they started, or stopped while they ran.");
        StatusEvicted = _meter.CreateCounter<long>("asyncqueue.job.status.evicted", "{job}", "Finished jobs' statuses evicted before their retention ended, because the queue's FinishedJobCapacity was reached.");
        SentMessages = _meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Number of messages producer attempted to send to the broker.");
        ConsumedMessages = _meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}", "Number of messages that were delivered to the application.");
        ProcessDuration = _meter.CreateHistogram("messaging.process.duration", "s", "Duration of one attempt's handler.", tags: null, SecondsBuckets);
        QueueWait = _meter.CreateHistogram("asyncqueue.job.queue_wait", "s", "Time from enqueue (or the due time of a delayed job or retry) to the start of an attempt.", tags: null, SecondsBuckets);
        EndToEnd = _meter.CreateHistogram("asyncqueue.job.end_to_end", "s", "Time from enqueue to success.", tags: null, SecondsBuckets);
    }

    public Counter<long> Enqueued { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Completed { get; }

    public Counter<long> FailedAttempts { get; }

    public Counter<long> Retried { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> DeadLetterEvictions { get; }

    public Counter<long> AbandonedHandlers { get; }

    public Counter<long> LeasesRescued { get; }

    public Counter<long> LeasesLost { get; }

    public Counter<long> Unreadable { get; }

    public Counter<long> Cancelled { get; }

    public Counter<long> StatusEvicted { get; }

    /// <summary>Gets the semantic conventions' counter of jobs handed to the store (accepted or refused as duplicates), with <c>error.type</c> when the store threw.</summary>
    public Counter<long> SentMessages { get; }

    /// <summary>Gets the semantic conventions' counter of attempts: jobs delivered to their handler.</summary>
    public Counter<long> ConsumedMessages { get; }

    public Histogram<double> ProcessDuration { get; }

    public Histogram<double> QueueWait { get; }

    public Histogram<double> EndToEnd { get; }

    /// <summary>Gets a value indicating whether any histogram is listened to, so that the hot path reads clocks only then.</summary>
    public bool TimingEnabled => ProcessDuration.Enabled || QueueWait.Enabled || EndToEnd.Enabled;

    /// <summary>Gets a value indicating whether an attempt must take the dispatcher's full path: a histogram or the consumed counter is listened to.</summary>
    public bool AttemptObserved => TimingEnabled || ConsumedMessages.Enabled;

    public static KeyValuePair<string, object?> SystemTag => new("messaging.system", System);

    public static KeyValuePair<string, object?> QueueTag(string queue) => new("messaging.destination.name", queue);

    public static KeyValuePair<string, object?> KindTag(string kind) => new("asyncqueue.job.kind", kind);

    public static KeyValuePair<string, object?> OperationTag(string operation) => new("messaging.operation.name", operation);

    /// <summary>The semantic conventions' <c>error.type</c>: the exception's full type name (low-cardinality, unlike its message).</summary>
    public static KeyValuePair<string, object?> ErrorTypeTag(Exception exception) => new("error.type", ErrorType(exception));

    public static string ErrorType(Exception exception) => exception.GetType().FullName ?? exception.GetType().Name;

    /// <summary>Counts jobs handed to the store: <paramref name="error"/> is the store's failure, or <see langword="null"/> when it answered.</summary>
    public void CountSent(string queue, int count, Exception? error)
    {
        if (!SentMessages.Enabled)
        {
            return;
        }

        if (error is null)
        {
            SentMessages.Add(count, SystemTag, QueueTag(queue), OperationTag(SendOperation));
        }
        else
        {
            SentMessages.Add(count, new TagList { SystemTag, QueueTag(queue), OperationTag(SendOperation), ErrorTypeTag(error) });
        }
    }

    /// <summary>Counts a job delivered to its handler (once per attempt).</summary>
    public void CountConsumed(JobRecord job)
    {
        if (ConsumedMessages.Enabled)
        {
            ConsumedMessages.Add(1, SystemTag, QueueTag(job.Queue), OperationTag(ProcessOperation));
        }
    }

    /// <summary>Counts a failed attempt, with its <c>error.type</c>.</summary>
    public void CountFailedAttempt(JobRecord job, Exception exception)
    {
        if (FailedAttempts.Enabled)
        {
            FailedAttempts.Add(1, new TagList { SystemTag, QueueTag(job.Queue), KindTag(job.Kind), ErrorTypeTag(exception) });
        }
    }

    /// <summary>
    /// Records an attempt's duration. The attempt failed when it added errors to the job (its record had
    /// <paramref name="errorsBefore"/> before it started): the first one it added is its <c>error.type</c>. A job
    /// handed back or cancelled adds none, and is no failure.
    /// </summary>
    public void RecordProcessDuration(double seconds, JobRecord job, int errorsBefore)
    {
        var errors = job.Errors;
        var tags = new TagList { SystemTag, QueueTag(job.Queue), KindTag(job.Kind), OperationTag(ProcessOperation) };
        if (errors.Count > errorsBefore)
        {
            tags.Add("error.type", errors[errorsBefore].ExceptionType);
        }

        ProcessDuration.Record(seconds, tags);
    }

    /// <summary>Reports queue depth, jobs in flight, the longest-running attempts, dead-letter queue sizes and paused queues when a listener collects them.</summary>
    public void ObserveState(Func<IEnumerable<Measurement<long>>> depth, Func<IEnumerable<Measurement<long>>> inFlight, Func<IEnumerable<Measurement<long>>> deadLetterSize, Func<IEnumerable<Measurement<int>>> paused, Func<IEnumerable<Measurement<double>>> longestRunning)
    {
        _meter.CreateObservableGauge("asyncqueue.job.longest_running", longestRunning, "s", "How long the oldest attempt running in a queue's workers has been running, sampled at each collection (0 when none runs): a stuck worker's signal.");
        _meter.CreateObservableGauge("asyncqueue.queue.paused", paused, "{queue}", "1 while a queue is paused (IJobQueue.PauseAsync), else 0.");
        _meter.CreateObservableGauge("asyncqueue.queue.depth", depth, "{job}", "Jobs waiting to start, per queue.");
        _meter.CreateObservableGauge("asyncqueue.job.in_flight", inFlight, "{job}", "Jobs whose handler is running, per queue.");
        _meter.CreateObservableGauge("asyncqueue.dead_letter.size", deadLetterSize, "{job}", "Jobs held, per dead-letter queue.");
    }

    public void Dispose() => _meter.Dispose();
}
