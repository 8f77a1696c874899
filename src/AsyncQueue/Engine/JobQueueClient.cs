using System.Diagnostics;
using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>The <see cref="IJobQueue"/>: turns a typed job into a <see cref="JobRecord"/> and hands it to the store.</summary>
internal sealed class JobQueueClient(JobRegistry registry, IJobStore store, JobQueueMetrics metrics, TimeProvider time) : IJobQueue
{
    private volatile bool _stopped;

    public ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        var (registration, queue) = Route<TJob>(options);
        var activity = JobQueueTracing.StartSend(queue, registration.Kind, out var traceParent, out var traceState);
        try
        {
            var record = CreateRecord(job, registration, queue, options, traceParent, traceState, nameof(job));
            var pending = store.EnqueueAsync(record, cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                var result = pending.Result;
                Count(result, record);
                activity?.Dispose();
                return new(result);
            }

            return AwaitEnqueueAsync(pending, record, activity);
        }
        catch (Exception ex)
        {
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

        if (records.Count == 0)
        {
            return [];
        }

        try
        {
            var results = await store.EnqueueBatchAsync(records, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < results.Count; i++)
            {
                Count(results[i], records[i]);
            }

            return results;
        }
        catch (Exception ex)
        {
            JobQueueTracing.RecordFailure(activity, ex);
            throw;
        }
    }

    /// <summary>Refuses every later enqueue with <see cref="JobQueueStoppedException"/>.</summary>
    public void Stop() => _stopped = true;

    private (JobRegistration Registration, string Queue) Route<TJob>(EnqueueOptions? options)
        where TJob : notnull
    {
        if (_stopped)
        {
            throw new JobQueueStoppedException();
        }

        var registration = registry.GetByType(typeof(TJob));
        return (registration, options?.Queue is { } named ? registry.CheckQueue(named) : registration.Queue);
    }

    private JobRecord CreateRecord<TJob>(TJob job, JobRegistration registration, string queue, EnqueueOptions? options, string? traceParent, string? traceState, string parameterName)
        where TJob : notnull
    {
        if (job is null)
        {
            throw new ArgumentNullException(parameterName, $"A job of type '{typeof(TJob).Name}' was null; enqueue a job instance.");
        }

        var now = time.GetUtcNow();
        if (options is null)
        {
            return new JobRecord(JobId.NewId(), registration.Kind, queue, job, now) { Registration = registration, TraceParent = traceParent, TraceState = traceState };
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
            NotBefore = options.Delay is { } delay ? now + delay : options.NotBefore,
        };
    }

    private void Count(EnqueueResult result, JobRecord record)
    {
        var counter = result.Accepted ? metrics.Enqueued : metrics.Duplicates;
        if (!counter.Enabled)
        {
            return;
        }

        counter.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(record.Queue), JobQueueMetrics.KindTag(record.Kind));
    }

    private async ValueTask<EnqueueResult> AwaitEnqueueAsync(ValueTask<EnqueueResult> pending, JobRecord record, Activity? activity)
    {
        try
        {
            var result = await pending.ConfigureAwait(false);
            Count(result, record);
            return result;
        }
        catch (Exception ex)
        {
            JobQueueTracing.RecordFailure(activity, ex);
            throw;
        }
        finally
        {
            activity?.Dispose();
        }
    }
}
