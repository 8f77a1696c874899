using System.Runtime.InteropServices;
using AsyncQueue.RateLimiting;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>One of a queue's <see cref="QueueOptions.MaxConcurrency"/> workers: fetches a job, runs it, repeats.</summary>
internal sealed class Worker
{
    // Written only by this worker, twice per job; read at shutdown, by the in-flight gauge and by status and cancel
    // lookups. A per-worker field instead of a shared counter keeps the hot path free of a contended interlocked
    // operation, and the padding keeps workers (allocated together at start) from sharing its cache line.
#pragma warning disable CS0169 // Never read: the fields exist only to take up space.
    private readonly CacheLinePadding _before;
    private volatile JobRecord? _running;
    private readonly CacheLinePadding _after;
#pragma warning restore CS0169

    private readonly CancellationToken _stopping;
    private readonly Lock _cancelGate = new();
    private CancellationTokenSource _cancellation;
    private JobId _cancelTarget;
    private bool _awaitingPermit;

    public Worker(string queue, QueueOptions options, IJobConsumer consumer, FinishedJobs? finished, CancellationToken stopping, RateLimitGate? rateLimit = null)
    {
        RateLimit = rateLimit;
        Queue = queue;
        Options = options;
        Consumer = consumer;
        Finished = finished;
        _stopping = stopping;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        CancellationToken = _cancellation.Token;
        CancelOnRequest = record => TryCancel(record.Id);
    }

    /// <summary>Gets what a running leased job's record calls when its store reports a cancel (one delegate per worker, not per job).</summary>
    public Action<JobRecord> CancelOnRequest { get; }

    public string Queue { get; }

    public QueueOptions Options { get; }

    public IJobConsumer Consumer { get; }

    /// <summary>Gets the gate of the queue's rate limit in this process, or <see langword="null"/>: the hot path's one check for limits.</summary>
    public RateLimitGate? RateLimit { get; }

    /// <summary>Gets or sets a value indicating whether <see cref="Running"/> waits for its rate limit's permit: it reads as waiting, not running.</summary>
    public bool AwaitingPermit
    {
        get => Volatile.Read(ref _awaitingPermit);
        set => Volatile.Write(ref _awaitingPermit, value);
    }

    /// <summary>Gets the statuses of the jobs this worker finished, for a store that keeps none; otherwise <see langword="null"/>.</summary>
    public FinishedJobs? Finished { get; }

    /// <summary>Gets the job this worker runs now, or <see langword="null"/> between jobs.</summary>
    /// <remarks>An in-memory plain job's record is reused for the worker's next one: read its id before and after its other fields.</remarks>
    public JobRecord? Running
    {
        get => _running;
        set => _running = value;
    }

    public bool Busy => _running is not null;

    /// <summary>
    /// Gets or sets a value indicating whether the worker must look at cancels before its next job: raised by a cancel
    /// of any job in this process, and by a cancel of this worker's token. The hot path's one read for cancels.
    /// </summary>
    public bool NeedsAttention { get; set; }

    /// <summary>Gets the token handed to this worker's handlers: cancelled at shutdown's end, or by a cancel of the running job.</summary>
    public CancellationToken CancellationToken { get; private set; }

    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>
    /// Gets or sets the timestamp at which the running attempt's completion was timed (0 when it was not), so the
    /// attempt's duration reuses that clock read. Read and written only by this worker's own loop.
    /// </summary>
    public long CompletedTimestamp { get; set; }

    /// <summary>Gets a value indicating whether the running job's cancellation was asked for (see <see cref="TryCancel"/>).</summary>
    public bool IsCancelled(JobRecord job)
    {
        lock (_cancelGate)
        {
            return _cancelTarget == job.Id && _cancellation.IsCancellationRequested;
        }
    }

    /// <summary>
    /// Cancels the handler's token if this worker runs job <paramref name="id"/> and its handler has not ended. Every
    /// change to the token and its target happens under one lock, and the token is cancelled with
    /// <see cref="CancellationTokenSource.CancelAsync"/>, so the handler's own registrations never run under it. The
    /// worker may still move on to its next job between the check and the cancel: that job's token then fires by
    /// mistake, which <see cref="IsCancelled"/> tells apart (the target is not it), and the dispatcher hands it back.
    /// </summary>
    public bool TryCancel(JobId id)
    {
        lock (_cancelGate)
        {
            if (_running is not { } job || job.Id != id || job.EndedAttempt == job.Attempt)
            {
                return false;
            }

            _cancelTarget = id;
            _ = _cancellation.CancelAsync();

            // Raised after the cancel: the worker lowers it before it looks (see JobDispatcher.CancelledBeforeStart).
            NeedsAttention = true;
            return true;
        }
    }

    /// <summary>Gets a value indicating whether the handlers' token was cancelled by a cancel (or at shutdown): it must be renewed before the next job.</summary>
    public bool CancellationUsed => _cancellation.IsCancellationRequested;

    /// <summary>
    /// Before job <paramref name="starting"/> starts: replaces a token that a cancel used (the only allocation a cancel
    /// costs a worker).
    /// </summary>
    /// <returns><see langword="true"/> when that cancel was for <paramref name="starting"/> itself: it must not start.</returns>
    public bool RenewCancellation(JobRecord starting)
    {
        lock (_cancelGate)
        {
            if (!_cancellation.IsCancellationRequested || _stopping.IsCancellationRequested)
            {
                return false;
            }

            var forStarting = _cancelTarget == starting.Id;
            var used = _cancellation;
            _cancellation = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            CancellationToken = _cancellation.Token;
            _cancelTarget = default;
            used.Dispose();
            return forStarting;
        }
    }

    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private readonly struct CacheLinePadding;
}
