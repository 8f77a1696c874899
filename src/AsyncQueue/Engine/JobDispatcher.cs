using AsyncQueue.DeadLetter;
using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Engine;

/// <summary>
/// Runs every queue's workers against the store: fetch a leased job, call its handler, then complete,
/// reschedule or dead-letter it. One dispatcher for every store, and the one place that decides a job's fate
/// (see the partial files: the attempt, how it is settled, and the rescue of expired leases).
/// </summary>
internal sealed partial class JobDispatcher : IDisposable
{
    private readonly IJobStore _store;
    private readonly JobRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly IOptionsMonitor<QueueOptions> _queueOptions;
    private readonly DeadLetterTargets _deadLetterTargets;
    private readonly JobCancellations _cancellations;
    private readonly IDeadLetterObserver[] _observers;
    private readonly JobQueueMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly CoarseClock _clock;
    private readonly CachedClock _finishedClock;
    private readonly ILogger _logger;

    // Two stages of shutdown: first stop taking jobs, then, when the host's patience runs out, cancel running ones.
    private readonly CancellationTokenSource _stopFetching = new();
    private readonly CancellationTokenSource _cancelJobs = new();
    private Worker[] _workers = [];
    private Task _rescue = Task.CompletedTask;

    public JobDispatcher(
        IJobStore store,
        JobRegistry registry,
        IServiceProvider services,
        IOptionsMonitor<QueueOptions> queueOptions,
        DeadLetterTargets deadLetterTargets,
        JobCancellations cancellations,
        IEnumerable<IDeadLetterObserver> observers,
        JobQueueMetrics metrics,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null)
    {
        _store = store;
        _registry = registry;
        _services = services;
        _queueOptions = queueOptions;
        _deadLetterTargets = deadLetterTargets;
        _cancellations = cancellations;
        _observers = [.. observers];
        _metrics = metrics;
        _time = time;
        _clock = new CoarseClock(time);
        _finishedClock = new CachedClock(time);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue");
    }

    /// <summary>Gets a value indicating whether the workers were started, are not stopping, and none has ended.</summary>
    public bool WorkersRunning => _workers.Length > 0 && !_stopFetching.IsCancellationRequested && Array.TrueForAll(_workers, w => !w.Completion.IsCompleted);

    private bool Durable => (_store.Capabilities & JobStoreCapabilities.Durable) != 0;

    /// <summary>Gets the workers (none before the start), for gauges that sample what they run; never changed through this.</summary>
    public IReadOnlyList<Worker> Workers => _workers;

    /// <summary>Counts the workers of a queue that are running a job now.</summary>
    public int CountBusy(string queue)
    {
        var busy = 0;
        foreach (var worker in _workers)
        {
            busy += worker.Busy && worker.Queue == queue ? 1 : 0;
        }

        return busy;
    }

    public void Start()
    {
        if (_workers.Length > 0)
        {
            throw new InvalidOperationException("The job dispatcher is already running.");
        }

        var workers = new List<Worker>();
        foreach (var queue in _registry.QueueNames)
        {
            // Reading the options validates them: a bad MaxConcurrency fails the start, naming queue and property.
            var options = _queueOptions.Get(queue);
            var gate = GateFor(queue, options);
            for (var i = 0; i < options.MaxConcurrency; i++)
            {
                workers.Add(new Worker(queue, options, _store.OpenConsumer(queue), KeepsFinishedJobs(options), _cancelJobs.Token, gate));
            }
        }

        foreach (var worker in workers)
        {
            // Task.Run: workers never run on the caller's context, and never inline in the host's StartAsync.
            worker.Completion = Task.Run(() => RunAsync(worker));
        }

        _workers = [.. workers];
        if (Durable)
        {
            var expired = _store.OpenExpiredLeaseConsumer();
            _rescue = Task.Run(() => RescueAsync(expired));
        }
    }

    /// <summary>Stops taking jobs, waits for running ones until <paramref name="cancellationToken"/> fires, then cancels them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopFetching.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_workers.Select(w => w.Completion).Append(_rescue));
        try
        {
            await all.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.ShutdownTimedOut(_logger, _workers.Count(w => w.Busy));
            await _cancelJobs.CancelAsync().ConfigureAwait(false);
        }

        // A durable store keeps its waiting and scheduled jobs for the next start; the in-memory one loses them, so say
        // how many. Scheduled ones are counted first: a job falling due in between is then counted twice, never missed.
        long notRun = 0;
        long scheduledInMemory = 0;
        foreach (var queue in _registry.QueueNames)
        {
            QueueCounts counts;
            try
            {
                counts = await _store.CountAsync(queue, CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A store that cannot count at shutdown must not fail the host's stop.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.StoreFailed(_logger, ex, "count", queue);
                continue;
            }

            notRun += counts.Waiting;
            if (!Durable)
            {
                notRun += counts.Scheduled;
                scheduledInMemory += counts.Scheduled;
                if (counts.Waiting > 0)
                {
                    Log.JobsLeftInMemory(_logger, queue, counts.Waiting);
                }
            }
        }

        if (scheduledInMemory > 0)
        {
            Log.ScheduledJobsLeftInMemory(_logger, scheduledInMemory);
        }

        Log.ShutdownSummary(_logger, notRun, _workers.Count(w => w.Busy));
        await DisposeGatesAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// What a job needs before it starts beyond the hot path: a cancel asked for in this process, a leased job's lease
    /// check and start record (see JobDispatcher.Rescue.cs), and the link that lets its store cancel it later.
    /// </summary>
    /// <returns><see langword="false"/> when the job must not start here: it was cancelled, or handed back.</returns>
    private async ValueTask<bool> PrepareAsync(Worker worker, JobRecord job)
    {
        if (worker.NeedsAttention && CancelledBeforeStart(worker, job))
        {
            await SettleUnstartedCancelAsync(worker, job).ConfigureAwait(false);
            return false;
        }

        if (!job.HasLeaseOrIsolated)
        {
            return true;
        }

        if (!await TryBeginAsync(job).ConfigureAwait(false))
        {
            return false;
        }

        if (job.CancellationRequested)
        {
            await SettleUnstartedCancelAsync(worker, job).ConfigureAwait(false);
            return false;
        }

        // Released by its store because its parent failed: it never runs.
        if (job.ParentFailed)
        {
            await SettleParentFailedAsync(worker, job).ConfigureAwait(false);
            return false;
        }

        job.OnCancellationRequested(worker.CancelOnRequest);
        return true;
    }

    /// <summary>A job cancelled before it started: the attempt the store counted when it handed the job out is undone.</summary>
    private ValueTask SettleUnstartedCancelAsync(Worker worker, JobRecord job)
    {
        UndoAttempt(job);
        return SettleCancelledAsync(worker, job);
    }

    /// <summary>
    /// The slow path of a worker whose flag was raised (a cancel was asked for, in this process): renews a token that a
    /// cancel used, and tells whether this job's cancel waits to be consumed. The flag stays up while any cancel waits.
    /// </summary>
    private bool CancelledBeforeStart(Worker worker, JobRecord job)
    {
        // Lowered first, then looked behind: a canceller raises it after its change, so none is missed.
        worker.NeedsAttention = false;
        Interlocked.MemoryBarrier();
        if (worker.CancellationUsed && worker.RenewCancellation(job))
        {
            _cancellations.TryRemove(job.Id);
            return true;
        }

        if (_cancellations.Any)
        {
            worker.NeedsAttention = true;
        }

        return _cancellations.Any && _cancellations.TryRemove(job.Id);
    }

    /// <summary>
    /// Undoes the attempt a store counted (a job handed back or dropped without being charged), and marks it ended, so
    /// a cancel that comes meanwhile sees a job being settled, not one running (<see cref="Worker.TryCancel"/>).
    /// </summary>
    private static void UndoAttempt(JobRecord job)
    {
        job.Attempt--;
        job.EndedAttempt = job.Attempt;
    }

    /// <summary>
    /// A durable store keeps finished jobs' statuses itself; for any other, each worker keeps its share, when the queue
    /// asks for them (<see cref="QueueOptions.FinishedJobCapacity"/>: off by default, since the ring costs every job).
    /// </summary>
    private FinishedJobs? KeepsFinishedJobs(QueueOptions options)
    {
        var capacity = options.FinishedJobsKept(durable: false);
        if (Durable || capacity == 0 || options.FinishedJobRetention == TimeSpan.Zero)
        {
            return null;
        }

        return new FinishedJobs(Math.Max(1, capacity / options.MaxConcurrency), options.FinishedJobRetention);
    }

    public void Dispose()
    {
        _stopFetching.Dispose();
        _cancelJobs.Dispose();
        _finishedClock.Dispose();
    }

    private async Task RunAsync(Worker worker)
    {
        var stopping = _stopFetching.Token;
        while (!stopping.IsCancellationRequested)
        {
            // Jobs that need nothing asynchronous run in RunReadyJobs' plain loop; this loop takes over at the first
            // fetch or attempt that does not complete at once, and for every job that needs more than the hot path.
            var handoff = RunReadyJobs(worker, stopping, out var fetch, out var started);
            if (handoff == Handoff.Stopping)
            {
                return;
            }

            if (handoff == Handoff.AttemptPending)
            {
                await started.ConfigureAwait(false);
                worker.Running = null;
                continue;
            }

            JobRecord job;
            try
            {
                job = fetch.IsCompletedSuccessfully ? fetch.Result : await fetch.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A store outage must not kill the worker.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Wait a moment so that a dead store is not hammered.
                Log.StoreFailed(_logger, ex, "fetch", worker.Queue);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            // Published before the cancels are read, so a cancel either finds this job running or is seen here (see
            // JobCancellations). A plain in-memory job with no cancel asked for takes one read of each flag.
            worker.Running = job;
            if (worker.RateLimit is { } gate && !await WaitForPermitAsync(worker, gate, job, stopping).ConfigureAwait(false))
            {
                worker.Running = null;
                continue;
            }

            if ((worker.NeedsAttention || job.HasLeaseOrIsolated) && !await PrepareAsync(worker, job).ConfigureAwait(false))
            {
                worker.Running = null;
                continue;
            }

            // An attempt that finished synchronously (the common case) costs no await. A ValueTask that completed
            // synchronously holds no pooled source to give back: an async method hands one out only once it awaits.
            var run = RunJobAsync(worker, job);
            if (!run.IsCompletedSuccessfully)
            {
                await run.ConfigureAwait(false);
            }

            worker.Running = null;
        }
    }

    /// <summary>
    /// Runs the worker's ready jobs one after another in a plain loop, as a channel reader's <c>TryRead</c> loop does,
    /// while each needs nothing asynchronous: its fetch completed at once, the queue has no rate limit, no cancel waits
    /// to be looked at, the job holds no lease, and its attempt completed synchronously. The same steps as
    /// <see cref="RunAsync"/>'s loop, without an async method's state machine: there every job's locals are fields of a
    /// heap-allocated box, each reference written to them a GC write barrier.
    /// </summary>
    /// <param name="worker">The worker.</param>
    /// <param name="stopping">Asks the worker to take no more jobs; looked at after each job, as the async loop does.</param>
    /// <param name="fetch">Set with <see cref="Handoff.Fetched"/>: the fetch to go on with (pending, faulted, or holding a job that needs the async loop's checks).</param>
    /// <param name="started">Set with <see cref="Handoff.AttemptPending"/>: the attempt of <see cref="Worker.Running"/> that went asynchronous.</param>
    /// <returns>What the async loop takes over; never a job fetched and dropped.</returns>
    private Handoff RunReadyJobs(Worker worker, CancellationToken stopping, out ValueTask<JobRecord> fetch, out ValueTask started)
    {
        // The out parameters are the async loop's fields (in its heap box): written only on the way out, since each
        // write of a reference there is a GC write barrier.
        started = default;
        while (true)
        {
            ValueTask<JobRecord> next;
            try
            {
                next = worker.Consumer.FetchAsync(stopping);
            }
#pragma warning disable CA1031 // Handed to the async loop, which handles a failed fetch (a store outage, or stopping).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                fetch = ValueTask.FromException<JobRecord>(ex);
                return Handoff.Fetched;
            }

            if (!next.IsCompletedSuccessfully)
            {
                fetch = next;
                return Handoff.Fetched;
            }

            // Read once: a completed ValueTask's result may come from a pooled source, which a second read would misuse.
            var job = next.Result;
            worker.Running = job;
            if (worker.RateLimit is not null || worker.NeedsAttention || job.HasLeaseOrIsolated)
            {
                fetch = new ValueTask<JobRecord>(job);
                return Handoff.Fetched;
            }

            var run = RunJobAsync(worker, job);
            if (!run.IsCompletedSuccessfully)
            {
                fetch = default;
                started = run;
                return Handoff.AttemptPending;
            }

            worker.Running = null;
            if (stopping.IsCancellationRequested)
            {
                fetch = default;
                return Handoff.Stopping;
            }
        }
    }

    /// <summary>What <see cref="RunReadyJobs"/> hands to the async loop.</summary>
    private enum Handoff
    {
        /// <summary>A fetch to go on with.</summary>
        Fetched,

        /// <summary>An attempt to await.</summary>
        AttemptPending,

        /// <summary>The worker was asked to stop, between two jobs.</summary>
        Stopping,
    }
}
