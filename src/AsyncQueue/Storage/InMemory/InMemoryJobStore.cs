using System.Collections.Concurrent;
using System.Collections.Frozen;
using AsyncQueue.Engine;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// The embedded default store: jobs live in this process, in lock-free queues, and are lost if it dies.
/// </summary>
internal sealed class InMemoryJobStore : IJobStore, IDisposable
{
    private readonly FrozenDictionary<string, InMemoryQueue> _queues;
    private readonly DelayScheduler _scheduler;
    private readonly ConcurrentQueue<JobRecord> _deadLetters = new();
    private readonly TimeProvider _time;

    public InMemoryJobStore(JobRegistry registry, IOptionsMonitor<QueueOptions> queueOptions, TimeProvider time)
    {
        _queues = registry.QueueNames.ToFrozenDictionary(name => name, name => new InMemoryQueue(name, queueOptions.Get(name)), StringComparer.Ordinal);
        _time = time;
        _scheduler = new DelayScheduler(time, job => GetQueue(job.Queue).Requeue(job));
    }

    public JobStoreCapabilities Capabilities => JobStoreCapabilities.None;

    /// <summary>Gets the dead-lettered jobs, oldest first.</summary>
    internal IEnumerable<JobRecord> DeadLetters => _deadLetters;

    public ValueTask EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return GetQueue(job.Queue).EnqueueAsync(job, cancellationToken);
    }

    public ValueTask EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return jobs.Count == 0 ? default : GetQueue(jobs[0].Queue).EnqueueBatchAsync(jobs, cancellationToken);
    }

    public IJobConsumer OpenConsumer(string queue) => GetQueue(queue).OpenConsumer();

    // Nothing to forget: the record was removed from its queue when it was fetched.
    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken) => default;

    public ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);

        // Due already (a zero-delay retry, or a job handed back at shutdown): straight back to its queue.
        if (runAt <= _time.GetUtcNow())
        {
            GetQueue(job.Queue).Requeue(job);
        }
        else
        {
            _scheduler.Schedule(job, runAt);
        }

        return default;
    }

    public ValueTask DeadLetterAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        _deadLetters.Enqueue(job);
        return default;
    }

    public long CountWaiting(string queue) => GetQueue(queue).Count;

    public void Dispose() => _scheduler.Dispose();

    private InMemoryQueue GetQueue(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw new QueueNotConfiguredException(name);
}
