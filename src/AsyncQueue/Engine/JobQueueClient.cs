using System.Diagnostics;
using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncQueue.Engine;

/// <summary>The <see cref="IJobQueue"/>: turns a typed job into a <see cref="JobRecord"/> and hands it to the store.</summary>
internal sealed class JobQueueClient(JobRegistry registry, IJobStore store, JobDispatcher dispatcher, JobQueueMetrics metrics, TimeProvider time, ILoggerFactory? loggerFactory = null) : IJobQueue
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue");
    private readonly CoarseClock _clock = new(time);
    private volatile bool _stopped;

    public ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        var (registration, queue) = Route<TJob>(options);
        var activity = JobQueueTracing.StartSend(queue, registration.Kind, out var traceParent, out var traceState);

        // Set once the job is handed to the store: only then does a failure count as a failed send (an invalid job never was one).
        var sending = false;
        try
        {
            ValueTask<EnqueueResult> pending;
            if (options is null && traceParent is null)
            {
                ThrowIfNull(job, nameof(job));

                // A plain job (no options, no trace context) may skip the record: the in-memory store keeps it by value.
                // The enqueue time is precise when a duration histogram will use it.
                sending = true;
                pending = store.EnqueuePlainAsync(registration, job, _clock.UtcTicks(precise: metrics.TimingEnabled), cancellationToken);
            }
            else
            {
                var record = CreateRecord(job, registration, queue, options, traceParent, traceState, nameof(job));
                sending = true;
                pending = store.EnqueueAsync(record, cancellationToken);
            }

            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                Count(result, queue, registration.Kind);
                activity?.Dispose();
                return new(result);
            }

            return AwaitEnqueueAsync(pending, queue, registration.Kind, activity);
        }
        catch (Exception ex)
        {
            if (sending)
            {
                metrics.CountSent(queue, 1, ex);
            }

            JobQueueTracing.RecordFailure(activity, ex);
            activity?.Dispose();
            throw;
        }
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync<TJob>(IEnumerable<TJob> jobs, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var (registration, queue) = Route<TJob>(options);
        using var activity = JobQueueTracing.StartSend(queue, registration.Kind, out var traceParent, out var traceState);
        var records = new List<JobRecord>();
        foreach (var job in jobs)
        {
            records.Add(CreateRecord(job, registration, queue, options, traceParent, traceState, nameof(jobs)));
        }

        JobQueueTracing.SetBatchSize(activity, records.Count);

        if (records.Count == 0)
        {
            return [];
        }

        try
        {
            var results = await store.EnqueueBatchAsync(records, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < results.Count; i++)
            {
                Count(results[i], queue, registration.Kind);
            }

            return results;
        }
        catch (Exception ex)
        {
            metrics.CountSent(queue, records.Count, ex);
            JobQueueTracing.RecordFailure(activity, ex);
            throw;
        }
    }

    public ValueTask<EnqueueResult> ContinueWithAsync<TJob>(JobId parentId, TJob job, ContinuationOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull => ContinueAsync([parentId], job, options, cancellationToken);

    public ValueTask<EnqueueResult> ContinueWhenAllAsync<TJob>(IReadOnlyCollection<JobId> parentIds, TJob job, ContinuationOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(parentIds);
        if (parentIds.Count == 0)
        {
            throw new ArgumentException("A continuation needs at least one parent job id.", nameof(parentIds));
        }

        // An id listed twice is one parent: waited for once, so one success releases what it holds back.
        var seen = new HashSet<JobId>(parentIds.Count);
        var distinct = new List<JobId>(parentIds.Count);
        foreach (var id in parentIds)
        {
            if (seen.Add(id))
            {
                distinct.Add(id);
            }
        }

        return ContinueAsync(distinct, job, options, cancellationToken);
    }

    private async ValueTask<EnqueueResult> ContinueAsync<TJob>(IReadOnlyList<JobId> parentIds, TJob job, ContinuationOptions? options, CancellationToken cancellationToken)
        where TJob : notnull
    {
        var enqueue = options?.Enqueue;
        if (enqueue?.IdempotencyKey is not null)
        {
            // A key held by a job that may never run (its parent may fail) would block its key's reuse: not supported yet.
            throw new ArgumentException("A continuation cannot have an IdempotencyKey; leave ContinuationOptions.Enqueue.IdempotencyKey null.", nameof(options));
        }

        var (registration, queue) = Route<TJob>(enqueue);
        using var activity = JobQueueTracing.StartSend(queue, registration.Kind, out var traceParent, out var traceState);
        var record = CreateRecord(job, registration, queue, enqueue, traceParent, traceState, nameof(job), parentIds, options?.OnParentFailure ?? ParentFailureAction.Cancel);
        try
        {
            var result = await dispatcher.ContinueWithAsync(record, cancellationToken).ConfigureAwait(false);
            Count(result, queue, registration.Kind);
            return result;
        }
        catch (Exception ex)
        {
            metrics.CountSent(queue, 1, ex);
            JobQueueTracing.RecordFailure(activity, ex);
            throw;
        }
    }

    public ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken = default) => dispatcher.CancelAsync(id, cancellationToken);

    public ValueTask PauseAsync(string queue, CancellationToken cancellationToken = default) => SetPausedAsync(queue, paused: true, cancellationToken);

    public ValueTask ResumeAsync(string queue, CancellationToken cancellationToken = default) => SetPausedAsync(queue, paused: false, cancellationToken);

    /// <summary>
    /// Refuses every later enqueue with <see cref="JobQueueStoppedException"/>, and so fails the producers already
    /// waiting for room in a full in-memory queue: no worker will free it.
    /// </summary>
    public void Stop()
    {
        _stopped = true;
        store.StopAccepting();
    }

    private async ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var name = registry.CheckQueue(queue);
        MissingCapabilities.ThrowIfNoPause(store, name);
        await store.SetPausedAsync(name, paused, cancellationToken).ConfigureAwait(false);
        Log.QueuePauseChanged(_logger, queue, paused ? "paused" : "resumed", paused ? "none until it is resumed" : "its jobs again");
    }

    private (JobRegistration Registration, string Queue) Route<TJob>(EnqueueOptions? options)
        where TJob : notnull
    {
        if (_stopped)
        {
            throw new JobQueueStoppedException();
        }

        var registration = registry.GetByType<TJob>();
        return (registration, options?.Queue is { } named ? registry.CheckQueue(named) : registration.Queue);
    }

    private JobRecord CreateRecord<TJob>(TJob job, JobRegistration registration, string queue, EnqueueOptions? options, string? traceParent, string? traceState, string parameterName, IReadOnlyList<JobId>? parentIds = null, ParentFailureAction onParentFailure = ParentFailureAction.Cancel)
        where TJob : notnull
    {
        ThrowIfNull(job, parameterName);

        // Precise only where it matters: a duration histogram, or a delay counted from now.
        var now = new DateTimeOffset(_clock.UtcTicks(precise: metrics.TimingEnabled || options?.Delay is not null), TimeSpan.Zero);
        if (options is null)
        {
            return new JobRecord(JobId.NewId(), registration.Kind, queue, job, now) { Registration = registration, TraceParent = traceParent, TraceState = traceState, ParentIds = parentIds, OnParentFailure = onParentFailure };
        }

        if (options.Delay is not null && options.NotBefore is not null)
        {
            throw new ArgumentException("EnqueueOptions.Delay and EnqueueOptions.NotBefore were both set; set one of them.", nameof(options));
        }

        return new JobRecord(JobId.NewId(), registration.Kind, queue, job, now)
        {
            Registration = registration,
            TraceParent = traceParent,
            TraceState = traceState,
            IdempotencyKey = options.IdempotencyKey,
            MaxAttempts = options.MaxAttempts,
            Priority = options.Priority,
            NotBefore = options.Delay is { } delay ? now + delay : options.NotBefore,
            ParentIds = parentIds,
            OnParentFailure = onParentFailure,
        };
    }

    private static void ThrowIfNull<TJob>([System.Diagnostics.CodeAnalysis.NotNull] TJob job, string parameterName)
    {
        if (job is null)
        {
            throw new ArgumentNullException(parameterName, $"A job of type '{typeof(TJob).Name}' was null; enqueue a job instance.");
        }
    }

    private void Count(EnqueueResult result, string queue, string kind)
    {
        // A duplicate was sent too: the store answered, and refused it.
        metrics.CountSent(queue, 1, error: null);
        var counter = result.Accepted ? metrics.Enqueued : metrics.Duplicates;
        if (!counter.Enabled)
        {
            return;
        }

        counter.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(queue), JobQueueMetrics.KindTag(kind));
    }

    private async ValueTask<EnqueueResult> AwaitEnqueueAsync(ValueTask<EnqueueResult> pending, string queue, string kind, Activity? activity)
    {
        try
        {
            var result = await pending.ConfigureAwait(false);
            Count(result, queue, kind);
            return result;
        }
        catch (Exception ex)
        {
            metrics.CountSent(queue, 1, ex);
            JobQueueTracing.RecordFailure(activity, ex);
            throw;
        }
        finally
        {
            activity?.Dispose();
        }
    }
}
