using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>The <see cref="IJobQueue"/>: turns a typed job into a <see cref="JobRecord"/> and hands it to the store.</summary>
internal sealed class JobQueueClient(JobRegistry registry, IJobStore store, TimeProvider time) : IJobQueue
{
    private volatile bool _stopped;

    public ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        var record = CreateRecord(job, options, nameof(job));
        var pending = store.EnqueueAsync(record, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            return new ValueTask<EnqueueResult>(new EnqueueResult(record.Id, EnqueueStatus.Accepted));
        }

        return AwaitEnqueueAsync(pending, new EnqueueResult(record.Id, EnqueueStatus.Accepted));
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync<TJob>(IEnumerable<TJob> jobs, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var records = new List<JobRecord>();
        foreach (var job in jobs)
        {
            records.Add(CreateRecord(job, options, nameof(jobs)));
        }

        if (records.Count > 0)
        {
            await store.EnqueueBatchAsync(records, cancellationToken).ConfigureAwait(false);
        }

        return [.. records.Select(r => new EnqueueResult(r.Id, EnqueueStatus.Accepted))];
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
        var queue = options?.Queue is { } named ? registry.CheckQueue(named) : registration.Queue;
        return new JobRecord(JobId.NewId(), registration.Kind, queue, job, time.GetUtcNow()) { Registration = registration };
    }

    private static async ValueTask<EnqueueResult> AwaitEnqueueAsync(ValueTask pending, EnqueueResult result)
    {
        await pending.ConfigureAwait(false);
        return result;
    }
}
