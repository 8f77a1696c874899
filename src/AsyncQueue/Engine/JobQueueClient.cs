using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>The <see cref="IJobQueue"/>: turns a typed job into a <see cref="JobRecord"/> and hands it to the store.</summary>
internal sealed class JobQueueClient(JobRegistry registry, IJobStore store, TimeProvider time) : IJobQueue
{
    private volatile bool _stopped;

    public ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull =>
        store.EnqueueAsync(CreateRecord(job, options, nameof(job)), cancellationToken);

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync<TJob>(IEnumerable<TJob> jobs, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var records = new List<JobRecord>();
        foreach (var job in jobs)
        {
            records.Add(CreateRecord(job, options, nameof(jobs)));
        }

        return records.Count == 0 ? [] : await store.EnqueueBatchAsync(records, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses every later enqueue with <see cref="JobQueueStoppedException"/>.</summary>
    public void Stop() => _stopped = true;

    private JobRecord CreateRecord<TJob>(TJob job, EnqueueOptions? options, string parameterName)
        where TJob : notnull
    {
        if (job is null)
        {
            throw new ArgumentNullException(parameterName, $"A job of type '{typeof(TJob).Name}' was null; enqueue a job instance.");
        }

        if (_stopped)
        {
            throw new JobQueueStoppedException();
        }

        var registration = registry.GetByType(typeof(TJob));
        var now = time.GetUtcNow();
        if (options is null)
        {
            return new JobRecord(JobId.NewId(), registration.Kind, registration.Queue, job, now) { Registration = registration };
        }

        if (options.Delay is not null && options.NotBefore is not null)
        {
            throw new ArgumentException("EnqueueOptions.Delay and EnqueueOptions.NotBefore were both set; set one of them.", nameof(options));
        }

        var queue = options.Queue is { } named ? registry.CheckQueue(named) : registration.Queue;
        return new JobRecord(JobId.NewId(), registration.Kind, queue, job, now)
        {
            Registration = registration,
            IdempotencyKey = options.IdempotencyKey,
            MaxAttempts = options.MaxAttempts,
            NotBefore = options.Delay is { } delay ? now + delay : options.NotBefore,
        };
    }
}
