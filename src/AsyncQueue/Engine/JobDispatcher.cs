using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using AsyncQueue.Diagnostics;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using AsyncQueue.Storage.InMemory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Engine;

/// <summary>
/// Runs every queue's workers against the store: fetch a leased job, call its handler, then complete,
/// reschedule or dead-letter it. One dispatcher for every store.
/// </summary>
internal sealed partial class JobDispatcher : IDisposable
{
    private readonly IJobStore _store;
    private readonly JobRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly IOptionsMonitor<QueueOptions> _queueOptions;
    private readonly IDeadLetterObserver[] _observers;
    private readonly JobQueueMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly CoarseClock _clock;
    private readonly ILogger _logger;

    // Two stages of shutdown: first stop taking jobs, then, when the host's patience runs out, cancel running ones.
    private readonly CancellationTokenSource _stopFetching = new();
    private readonly CancellationTokenSource _cancelJobs = new();
    private Worker[] _workers = [];

    public JobDispatcher(
        IJobStore store,
        JobRegistry registry,
        IServiceProvider services,
        IOptionsMonitor<QueueOptions> queueOptions,
        IEnumerable<IDeadLetterObserver> observers,
        JobQueueMetrics metrics,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null)
    {
        _store = store;
        _registry = registry;
        _services = services;
        _queueOptions = queueOptions;
        _observers = [.. observers];
        _metrics = metrics;
        _time = time;
        _clock = new CoarseClock(time);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue");
    }

    /// <summary>Gets a value indicating whether the workers were started, are not stopping, and none has ended.</summary>
    public bool WorkersRunning => _workers.Length > 0 && !_stopFetching.IsCancellationRequested && Array.TrueForAll(_workers, w => !w.Completion.IsCompleted);

    public IReadOnlyList<string> QueueNames => _registry.QueueNames;

    public IEnumerable<string> DeadLetterQueueNames => _workers.Select(w => w.DeadLetterTarget.Name).Distinct(StringComparer.Ordinal);

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
            for (var i = 0; i < options.MaxConcurrency; i++)
            {
                workers.Add(new Worker(queue, options, _store.OpenConsumer(queue)));
            }
        }

        foreach (var worker in workers)
        {
            // Task.Run: workers never run on the caller's context, and never inline in the host's StartAsync.
            worker.Completion = Task.Run(() => RunAsync(worker));
        }

        _workers = [.. workers];
        _metrics.ObserveState(ObserveDepth, ObserveInFlight, ObserveDeadLetters);
    }

    /// <summary>Stops taking jobs, waits for running ones until <paramref name="cancellationToken"/> fires, then cancels them.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopFetching.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_workers.Select(w => w.Completion));
        try
        {
            await all.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.ShutdownTimedOut(_logger, _workers.Count(w => w.Busy));
            await _cancelJobs.CancelAsync().ConfigureAwait(false);
        }

        // A durable store keeps its scheduled jobs for the next start; the in-memory one loses them, so say how many.
        // Counted before the waiting ones: a job falling due in between is then counted twice, never missed.
        long notRun = 0;
        if (_store is InMemoryJobStore { ScheduledCount: > 0 and var scheduled })
        {
            notRun += scheduled;
            Log.ScheduledJobsLeftInMemory(_logger, scheduled);
        }

        foreach (var queue in _registry.QueueNames)
        {
            var waiting = _store.CountWaiting(queue);
            notRun += waiting;
            if (waiting > 0 && (_store.Capabilities & JobStoreCapabilities.Durable) == 0)
            {
                Log.JobsLeftInMemory(_logger, queue, waiting);
            }
        }

        Log.ShutdownSummary(_logger, notRun, _workers.Count(w => w.Busy));
    }

    private IEnumerable<Measurement<long>> ObserveDepth() =>
        _registry.QueueNames.Select(queue => new Measurement<long>(_store.CountWaiting(queue), JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(queue)));

    private IEnumerable<Measurement<long>> ObserveInFlight() =>
        _workers.GroupBy(w => w.Queue).Select(g => new Measurement<long>(g.Count(w => w.Busy), JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(g.Key)));

    private IEnumerable<Measurement<long>> ObserveDeadLetters()
    {
        if (_store is not IDeadLetterQueue deadLetters)
        {
            yield break;
        }

        // Observed on a metrics collection thread, never on the hot path; a durable store answers with a count query.
        foreach (var name in DeadLetterQueueNames)
        {
            var size = deadLetters.CountAsync(name).AsTask().GetAwaiter().GetResult();
            yield return new Measurement<long>(size, JobQueueMetrics.SystemTag, new KeyValuePair<string, object?>("messaging.destination.name", name));
        }
    }

    public void Dispose()
    {
        _stopFetching.Dispose();
        _cancelJobs.Dispose();
    }

    private async Task RunAsync(Worker worker)
    {
        var stopping = _stopFetching.Token;
        while (!stopping.IsCancellationRequested)
        {
            JobRecord job;
            try
            {
                var fetch = worker.Consumer.FetchAsync(stopping);
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

            worker.Busy = true;
            var run = RunJobAsync(worker, job);
            if (run.IsCompletedSuccessfully)
            {
                run.GetAwaiter().GetResult();
            }
            else
            {
                await run.ConfigureAwait(false);
            }

            worker.Busy = false;
        }
    }

    /// <summary>
    /// Runs one attempt. The common case (a job enqueued in this process, no timeout, no span or histogram listened
    /// to, a handler that completes synchronously) takes no state machine and no allocation.
    /// </summary>
    private ValueTask RunJobAsync(Worker worker, JobRecord job)
    {
        var registration = job.Registration;
        if (registration is null || registration.Timeout is not null || worker.Options.Timeout is not null || _metrics.TimingEnabled || JobQueueTracing.Source.HasListeners())
        {
            return RunJobFullyAsync(worker, job);
        }

        ValueTask attempt;
        try
        {
            attempt = registration.InvokeAsync(_services, job, new JobContext(job, job.Attempt), _cancelJobs.Token);
        }
#pragma warning disable CA1031 // A handler that throws before its first await fails the attempt like any other.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            attempt = ValueTask.FromException(ex);
        }

        if (attempt.IsCompletedSuccessfully)
        {
            attempt.GetAwaiter().GetResult();
            return CompleteAsync(worker, job);
        }

        return FinishAttemptAsync(worker, job, registration, attempt, activity: null);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunJobFullyAsync(Worker worker, JobRecord job)
    {
        var registration = job.Registration;
        if (registration is null)
        {
            if (!_registry.TryGetByKind(job.Kind, out registration))
            {
                Log.UnknownKind(_logger, job.Id, job.Kind, job.Queue);
                job.AddError(new JobError(job.Attempt, _time.GetUtcNow(), "AsyncQueue.UnknownJobKind", $"No handler is registered for job kind '{job.Kind}'.", null));
                await DeadLetterAsync(worker, job).ConfigureAwait(false);
                return;
            }

            // A store's record must hold the registered type: the handler call casts without checking.
            if (!registration.JobType.IsInstanceOfType(job.Job))
            {
                job.AddError(new JobError(job.Attempt, _time.GetUtcNow(), "AsyncQueue.JobTypeMismatch", $"The job's value is a '{job.Job.GetType().FullName}', not the '{registration.JobType.FullName}' registered for kind '{job.Kind}'.", null));
                await DeadLetterAsync(worker, job).ConfigureAwait(false);
                return;
            }

            job.Registration = registration;
        }

        // Telemetry costs nothing unless listened to: no span without a listener, no clock read without a histogram.
        var activity = JobQueueTracing.StartProcess(job);
        var timed = _metrics.TimingEnabled;
        var started = timed ? StartTiming(worker, job) : 0;
        try
        {
            var timeout = registration.Timeout ?? worker.Options.Timeout;
            if (timeout is null)
            {
                await RunAttemptAsync(worker, job, registration, activity).ConfigureAwait(false);
            }
            else
            {
                await RunWithTimeoutAsync(worker, job, registration, timeout.Value, activity).ConfigureAwait(false);
            }
        }
        finally
        {
            if (timed && _metrics.ProcessDuration.Enabled)
            {
                // The completion's clock read when the end-to-end histogram took one: one read ends both.
                var ended = worker.CompletedTimestamp is not 0 and var completed ? completed : _clock.GetTimestamp();
                _metrics.ProcessDuration.Record(_clock.SecondsBetween(started, ended), JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
            }

            activity?.Dispose();
        }
    }

    private ValueTask RunAttemptAsync(Worker worker, JobRecord job, JobRegistration registration, Activity? activity)
    {
        ValueTask attempt;
        try
        {
            attempt = registration.InvokeAsync(_services, job, new JobContext(job, job.Attempt), _cancelJobs.Token);
        }
#pragma warning disable CA1031 // A handler that throws before its first await fails the attempt like any other.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            attempt = ValueTask.FromException(ex);
        }

        return FinishAttemptAsync(worker, job, registration, attempt, activity);
    }

    /// <summary>
    /// Awaits an attempt and settles it: complete, hand back on shutdown, or fail. When <paramref name="timedOut"/> is
    /// the timeout that cancelled the attempt's token, a failure is reported as that timeout.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishAttemptAsync(Worker worker, JobRecord job, JobRegistration registration, ValueTask attempt, Activity? activity, TimeSpan? timedOut = null)
    {
        try
        {
            await attempt.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cancelJobs.IsCancellationRequested)
        {
            await HandBackAsync(job).ConfigureAwait(false);
            return;
        }
#pragma warning disable CA1031 // A handler's exception of any type fails the attempt; it must never escape and kill the worker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (timedOut is { } timeout)
            {
                Log.JobTimedOut(_logger, job.Id, job.Kind, job.Queue, timeout, job.Attempt);
                ex = new TimeoutException($"The attempt did not finish within its timeout of {timeout}; its token was cancelled.", ex);
            }

            await FailAsync(worker, job, registration, ex, activity).ConfigureAwait(false);
            return;
        }

        await CompleteAsync(worker, job).ConfigureAwait(false);
    }

    /// <summary>Records the queue wait and returns the attempt's start: one precise clock read serves both.</summary>
    private long StartTiming(Worker worker, JobRecord job)
    {
        worker.CompletedTimestamp = 0;
        var started = _clock.GetTimestamp();
        if (_metrics.QueueWait.Enabled)
        {
            // A delayed job or a retry waits from its due time, not from its first enqueue.
            var waitingSince = (job.NotBefore ?? job.EnqueuedAt).UtcTicks;
            var wait = (double)(_clock.UtcTicksAt(started) - waitingSince) / TimeSpan.TicksPerSecond;
            _metrics.QueueWait.Record(Math.Max(0, wait), JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        }

        return started;
    }

    // Not through SettleAsync: a delegate per job would be an allocation on the hot path. A store that completes
    // synchronously (the in-memory one) costs no state machine either.
    private ValueTask CompleteAsync(Worker worker, JobRecord job)
    {
        ValueTask completing;
        try
        {
            completing = _store.CompleteAsync(job, CancellationToken.None);
            if (completing.IsCompletedSuccessfully)
            {
                completing.GetAwaiter().GetResult();
                OnCompleted(worker, job);
                return default;
            }
        }
#pragma warning disable CA1031 // The job stays leased in a durable store and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StoreFailed(_logger, ex, "complete", job.Queue);
            return default;
        }

        return AwaitCompleteAsync(completing, worker, job);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitCompleteAsync(ValueTask completing, Worker worker, JobRecord job)
    {
        try
        {
            await completing.ConfigureAwait(false);
            OnCompleted(worker, job);
        }
#pragma warning disable CA1031 // As above: the worker must survive a store failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StoreFailed(_logger, ex, "complete", job.Queue);
        }
    }

    private void OnCompleted(Worker worker, JobRecord job)
    {
        if (_metrics.Completed.Enabled)
        {
            _metrics.Completed.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        }

        if (_metrics.EndToEnd.Enabled)
        {
            var completed = _clock.GetTimestamp();
            worker.CompletedTimestamp = completed;
            var endToEnd = (double)(_clock.UtcTicksAt(completed) - job.EnqueuedAt.UtcTicks) / TimeSpan.TicksPerSecond;
            _metrics.EndToEnd.Record(endToEnd, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        }
    }

    /// <summary>A failed attempt: the retry policy chooses between a later attempt and the dead-letter queue.</summary>
    private async ValueTask FailAsync(Worker worker, JobRecord job, JobRegistration registration, Exception exception, Activity? activity)
    {
        var now = _time.GetUtcNow();
        Log.JobFailed(_logger, exception, job.Id, job.Kind, job.Queue, job.Attempt);
        JobQueueTracing.RecordFailure(activity, exception);
        _metrics.FailedAttempts.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        job.AddError(JobError.FromException(job.Attempt, now, exception));

        RetryDecision decision;
        try
        {
            decision = (registration.Retry ?? worker.Options.Retry).Decide(new RetryArguments(exception, job.Attempt, job.MaxAttempts, job.Kind, job.Queue, now));
        }
#pragma warning disable CA1031 // A broken custom policy must not lose the job: it goes to the dead-letter queue with the policy's error.
        catch (Exception policyError)
#pragma warning restore CA1031
        {
            job.AddError(JobError.FromException(job.Attempt, now, policyError));
            decision = RetryDecision.GiveUp;
        }

        if (decision.ShouldRetry)
        {
            Log.RetryScheduled(_logger, job.Id, job.Kind, job.Queue, decision.RunAt, job.Attempt);
            _metrics.Retried.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
            await SettleAsync(job, "reschedule", (j, ct) => _store.RescheduleAsync(j, decision.RunAt, ct)).ConfigureAwait(false);
            return;
        }

        await DeadLetterAsync(worker, job).ConfigureAwait(false);
    }

    private async ValueTask DeadLetterAsync(Worker worker, JobRecord job)
    {
        DeadLetterEntry entry;
        try
        {
            entry = await _store.DeadLetterAsync(job, worker.DeadLetterTarget, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The job stays leased in a durable store and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StoreFailed(_logger, ex, "dead-letter", job.Queue);
            return;
        }

        Log.JobDeadLettered(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
        _metrics.DeadLettered.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
        foreach (var observer in _observers)
        {
            try
            {
                await observer.OnDeadLetteredAsync(entry, _cancelJobs.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // An observer's failure must not touch the job, which is already safe.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ObserverFailed(_logger, ex, job.Id, entry.DeadLetterQueue);
            }
        }
    }

    /// <summary>Shutdown is not the job's failure: hand it back without spending an attempt.</summary>
    private ValueTask HandBackAsync(JobRecord job)
    {
        Log.JobInterrupted(_logger, job.Id, job.Kind, job.Queue);
        job.Attempt--;
        var now = _time.GetUtcNow();
        return SettleAsync(job, "hand back", (j, ct) => _store.RescheduleAsync(j, now, ct));
    }

    /// <summary>Tells the store how the attempt ended. A store failure is logged, never thrown: the worker goes on.</summary>
    private async ValueTask SettleAsync(JobRecord job, string operation, Func<JobRecord, CancellationToken, ValueTask> settle)
    {
        try
        {
            await settle(job, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The job stays leased in a durable store and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StoreFailed(_logger, ex, operation, job.Queue);
        }
    }
}
