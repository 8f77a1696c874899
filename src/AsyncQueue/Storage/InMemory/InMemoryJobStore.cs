using System.Collections.Frozen;
using AsyncQueue.Diagnostics;
using AsyncQueue.Engine;
using AsyncQueue.Idempotency;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// The embedded default store: jobs live in this process, in lock-free queues, and are lost if it dies.
/// It is also the in-memory <see cref="IDeadLetterQueue"/>.
/// </summary>
internal sealed class InMemoryJobStore : IJobStore, IDeadLetterQueue, IDisposable
{
    private readonly FrozenDictionary<string, InMemoryQueue> _queues;
    private readonly DelayScheduler _scheduler;
    private readonly InMemoryDeadLetters _deadLetters;
    private readonly IIdempotencyStore _keys;
    private readonly InMemoryIdempotencyStore? _memoryKeys;
    private readonly TimeProvider _time;

    public InMemoryJobStore(
        JobRegistry registry,
        IOptionsMonitor<QueueOptions> queueOptions,
        IIdempotencyStore keys,
        JobQueueMetrics metrics,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null)
    {
        _queues = registry.QueueNames.ToFrozenDictionary(name => name, name => new InMemoryQueue(name, queueOptions.Get(name)), StringComparer.Ordinal);
        _keys = keys;
        _memoryKeys = keys as InMemoryIdempotencyStore;
        _time = time;
        _scheduler = new DelayScheduler(time, job => GetQueue(job.Queue).Requeue(job));
        _deadLetters = new InMemoryDeadLetters(time, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue"), metrics);
    }

    public JobStoreCapabilities Capabilities => JobStoreCapabilities.None;

    /// <summary>Gets how many jobs wait for their time (retries and delayed jobs).</summary>
    internal int ScheduledCount => _scheduler.Count;

    public ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.IdempotencyKey is not null || job.NotBefore is not null)
        {
            return EnqueueWithPoliciesAsync(job, cancellationToken);
        }

        // The hot path: no key to claim, no delay; an unbounded queue completes synchronously and allocates nothing.
        return Accept(GetQueue(job.Queue).EnqueueAsync(ReadyJob.Of(job), cancellationToken), job.Id);
    }

    /// <summary>
    /// The client's path for a plain job (no options, no trace context): stored by value, with no record
    /// (see <see cref="ReadyJob"/>).
    /// </summary>
    public ValueTask<EnqueueResult> EnqueuePlainAsync(JobRegistration registration, object job, long enqueuedAtTicks, CancellationToken cancellationToken)
    {
        var sequence = JobId.NextSequence();
        var pending = GetQueue(registration.Queue).EnqueueAsync(ReadyJob.Plain(registration, job, sequence, enqueuedAtTicks), cancellationToken);
        return Accept(pending, JobId.FromSequence(sequence));
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var results = new EnqueueResult[jobs.Count];
        var ready = new List<JobRecord>(jobs.Count);
        var delayed = new List<JobRecord>();
        var claimed = new List<JobRecord>();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.IdempotencyKey is { } key)
            {
                var holder = await ClaimAsync(job, key, cancellationToken).ConfigureAwait(false);
                if (holder != job.Id)
                {
                    results[i] = new EnqueueResult(holder, EnqueueStatus.Duplicate);
                    continue;
                }

                claimed.Add(job);
            }

            results[i] = new EnqueueResult(job.Id, EnqueueStatus.Accepted);
            (IsDelayed(job) ? delayed : ready).Add(job);
        }

        if (ready.Count > 0)
        {
            try
            {
                await GetQueue(ready[0].Queue).EnqueueBatchAsync(ready, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Not accepted (a full queue that throws): the keys go back, so a later enqueue may claim them.
                foreach (var job in claimed)
                {
                    await _keys.ReleaseAsync(job.IdempotencyKey!, job.Id, CancellationToken.None).ConfigureAwait(false);
                }

                throw;
            }
        }

        // Scheduled only once the ready jobs were accepted: a batch refused by a full queue accepts nothing.
        foreach (var job in delayed)
        {
            _scheduler.Schedule(job, job.NotBefore!.Value);
        }

        return results;
    }

    public IJobConsumer OpenConsumer(string queue) => GetQueue(queue).OpenConsumer();

    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);

        // Nothing else to forget: the record left its queue when it was fetched.
        if (job.IdempotencyKey is not { } key)
        {
            return default;
        }

        var retention = GetQueue(job.Queue).Options.IdempotencyRetention;
        if (job.StoreData is InMemoryIdempotencyStore.Claim claim)
        {
            _memoryKeys!.MarkSucceeded(claim, retention);
            return default;
        }

        return _keys.MarkSucceededAsync(key, job.Id, retention, cancellationToken);
    }

    /// <summary>Claims the job's key; the in-memory key store's claim is kept in the record, to mark it without a lookup.</summary>
    private ValueTask<JobId> ClaimAsync(JobRecord job, string key, CancellationToken cancellationToken)
    {
        if (_memoryKeys is null)
        {
            return _keys.ClaimAsync(key, job.Id, cancellationToken);
        }

        var claim = _memoryKeys.TryClaim(key, job.Id);
        if (claim.JobId == job.Id)
        {
            job.StoreData = claim;
        }

        return new(claim.JobId);
    }

    public ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        job = job.Keep();
        job.NotBefore = runAt;

        // Due already (a zero-delay retry, or a job handed back at shutdown): straight back to its queue.
        if (IsDelayed(job))
        {
            _scheduler.Schedule(job, runAt);
        }
        else
        {
            GetQueue(job.Queue).Requeue(job);
        }

        return default;
    }

    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(target);
        job = job.Keep();
        var entry = new DeadLetterEntry(job, target.Name, _time.GetUtcNow());
        _deadLetters.Add(entry, target);
        if (job.IdempotencyKey is { } key)
        {
            await _keys.ReleaseAsync(key, job.Id, cancellationToken).ConfigureAwait(false);
        }

        return entry;
    }

    public long CountWaiting(string queue) => GetQueue(queue).Count;

    /// <summary>Fails the producers waiting for room in a bounded queue with <see cref="JobQueueStoppedException"/>: the workers are stopping.</summary>
    internal void CloseQueues()
    {
        foreach (var queue in _queues.Values)
        {
            queue.Close();
        }
    }

    public ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        return new(_deadLetters.List(deadLetterQueue, skip, take));
    }

    public ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return new(_deadLetters.Count(deadLetterQueue));
    }

    public ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default) => new(_deadLetters.Get(jobId));

    public ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default)
    {
        if (_deadLetters.Remove(jobId) is not { } entry)
        {
            return new(false);
        }

        Requeue(entry.Record);
        return new(true);
    }

    public ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        var entries = _deadLetters.RemoveAll(deadLetterQueue);
        foreach (var entry in entries)
        {
            Requeue(entry.Record);
        }

        return new(entries.Count);
    }

    public ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default) => new(_deadLetters.Remove(jobId) is not null);

    public ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return new(_deadLetters.RemoveAll(deadLetterQueue).Count);
    }

    public void Dispose() => _scheduler.Dispose();

    private static ValueTask<EnqueueResult> Accept(ValueTask pending, JobId jobId)
    {
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            return new(new EnqueueResult(jobId, EnqueueStatus.Accepted));
        }

        return AwaitAcceptedAsync(pending, jobId);
    }

    private static async ValueTask<EnqueueResult> AwaitAcceptedAsync(ValueTask pending, JobId jobId)
    {
        await pending.ConfigureAwait(false);
        return new EnqueueResult(jobId, EnqueueStatus.Accepted);
    }

    private async ValueTask<EnqueueResult> EnqueueWithPoliciesAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (job.IdempotencyKey is { } key)
        {
            var holder = await ClaimAsync(job, key, cancellationToken).ConfigureAwait(false);
            if (holder != job.Id)
            {
                return new EnqueueResult(holder, EnqueueStatus.Duplicate);
            }
        }

        try
        {
            if (IsDelayed(job))
            {
                _scheduler.Schedule(job, job.NotBefore!.Value);
            }
            else
            {
                await GetQueue(job.Queue).EnqueueAsync(ReadyJob.Of(job), cancellationToken).ConfigureAwait(false);
            }
        }
        catch when (job.IdempotencyKey is not null)
        {
            await _keys.ReleaseAsync(job.IdempotencyKey, job.Id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
    }

    /// <summary>Back to its queue as a fresh job: no attempts spent, runnable at once.</summary>
    private void Requeue(JobRecord job)
    {
        job.ResetAttempts();
        job.NotBefore = null;
        GetQueue(job.Queue).Requeue(job);
    }

    private bool IsDelayed(JobRecord job) => job.NotBefore is { } notBefore && notBefore > _time.GetUtcNow();

    private InMemoryQueue GetQueue(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw new QueueNotConfiguredException(name);
}
