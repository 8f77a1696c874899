using System.Collections.Frozen;
using AsyncQueue.Diagnostics;
using AsyncQueue.Engine;
using AsyncQueue.Idempotency;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// The embedded default store: jobs live in this process, in lock-free queues, and are lost if it dies. Nothing is
/// leased, so nothing expires: a job fetched is settled by the worker that took it.
/// </summary>
internal sealed class InMemoryJobStore : IJobStore, IDisposable
{
    private readonly FrozenDictionary<string, InMemoryQueue> _queues;
    private readonly JobRegistry _registry;

    // Each registration's default queue, at the registration's index: a plain enqueue's queue without a lookup by name.
    private readonly InMemoryQueue[] _queueOfRegistration;
    private readonly DelayScheduler _scheduler;
    private readonly InMemoryDeadLetters _deadLetters;
    private readonly InMemoryIdempotencyStore _keys;
    private readonly TimeProvider _time;

    public InMemoryJobStore(
        JobRegistry registry,
        IOptionsMonitor<QueueOptions> queueOptions,
        InMemoryIdempotencyStore keys,
        JobQueueMetrics metrics,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null)
    {
        _queues = registry.QueueNames.ToFrozenDictionary(name => name, name => new InMemoryQueue(name, queueOptions.Get(name)), StringComparer.Ordinal);
        _registry = registry;
        _queueOfRegistration = [.. registry.Registrations.Select(r => GetQueue(r.Queue))];
        _keys = keys;
        _time = time;
        _scheduler = new DelayScheduler(time, job => GetQueue(job.Queue).Requeue(job));
        _deadLetters = new InMemoryDeadLetters(time, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue"), metrics, Requeue);
    }

    public JobStoreCapabilities Capabilities => JobStoreCapabilities.IdempotencyKeys | JobStoreCapabilities.InjectedClock
        | JobStoreCapabilities.JobStatus | JobStoreCapabilities.Pause | JobStoreCapabilities.Priorities;

    public IDeadLetterQueue DeadLetters => _deadLetters;

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
    ValueTask<EnqueueResult> IJobStore.EnqueuePlainAsync(JobRegistration registration, object job, long enqueuedAtTicks, CancellationToken cancellationToken)
    {
        var sequence = JobId.NextSequence();
        var queue = ReferenceEquals(registration.Registry, _registry) ? _queueOfRegistration[registration.Index] : GetQueue(registration.Queue);
        var pending = queue.EnqueueAsync(ReadyJob.Plain(registration, job, sequence, enqueuedAtTicks), cancellationToken);
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
                var holder = Claim(job, key);
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

    /// <summary>Never asked: this store is not durable, so no lease can expire.</summary>
    public IJobConsumer OpenExpiredLeaseConsumer() => throw new NotSupportedException("The in-memory store leases nothing, so no lease expires.");

    /// <summary>Nothing to record: a crash loses every in-memory job, isolated or not.</summary>
    public ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken) => new(true);

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
            _keys.MarkSucceeded(claim, retention);
            return default;
        }

        return _keys.MarkSucceededAsync(key, job.Id, retention, cancellationToken);
    }

    /// <summary>Claims the job's key and returns the key's holder; a won claim is kept in the record, to mark it without a lookup.</summary>
    private JobId Claim(JobRecord job, string key)
    {
        var claim = _keys.TryClaim(key, job.Id);
        if (claim.JobId == job.Id)
        {
            job.StoreData = claim;
        }

        return claim.JobId;
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
        var entry = _deadLetters.Add(job.Keep(), target);
        if (job.IdempotencyKey is { } key)
        {
            await _keys.ReleaseAsync(key, job.Id, cancellationToken).ConfigureAwait(false);
        }

        return entry;
    }

    /// <summary>Frees the key; the job's status is kept by the dispatcher's worker, as for a succeeded job.</summary>
    public ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.IdempotencyKey is { } key ? _keys.ReleaseAsync(key, job.Id, cancellationToken) : default;
    }

    /// <summary>
    /// A waiting job cannot be taken out of its lock-free queue: it is reported cancelled, and the dispatcher, which
    /// registered the cancel before asking, drops it when a worker takes it. A scheduled or retrying job is moved from
    /// the scheduler to its queue at once, to be dropped the same way rather than held until its time. Either way its
    /// key is freed now. Running jobs are the dispatcher's to cancel.
    /// </summary>
    public async ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        if (_scheduler.Remove(id) is { } scheduled)
        {
            await MarkCancelledAsync(scheduled, cancellationToken).ConfigureAwait(false);
            GetQueue(scheduled.Queue).Requeue(scheduled);
            return CancelJobResult.Cancelled;
        }

        foreach (var queue in _queues.Values)
        {
            if (queue.TryFind(id, out var waiting))
            {
                if (waiting.Value is JobRecord record)
                {
                    await MarkCancelledAsync(record, cancellationToken).ConfigureAwait(false);
                }

                return CancelJobResult.Cancelled;
            }
        }

        return await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false) is null ? CancelJobResult.NotFound : CancelJobResult.AlreadyFinished;
    }

    /// <summary>Waiting, scheduled and dead-lettered jobs, found by a scan: running and finished ones are the dispatcher's.</summary>
    public async ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        if (_scheduler.TryFind(id, out var scheduled, out var runAt))
        {
            return Describe(scheduled, scheduled.Errors.Count > 0 ? JobState.Retrying : JobState.Scheduled, runAt);
        }

        foreach (var queue in _queues.Values)
        {
            if (!queue.TryFind(id, out var waiting))
            {
                continue;
            }

            if (waiting.Registration is { } registration)
            {
                return new JobInfo(id, queue.Name, registration.Kind, JobState.Waiting, new DateTimeOffset(waiting.EnqueuedAtTicks, TimeSpan.Zero))
                {
                    NextRunAt = new DateTimeOffset(waiting.EnqueuedAtTicks, TimeSpan.Zero),
                };
            }

            var record = (JobRecord)waiting.Value;
            return Describe(record, JobState.Waiting, record.NotBefore ?? record.EnqueuedAt);
        }

        if (await _deadLetters.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            return new JobInfo(id, entry.Queue, entry.Kind, JobState.DeadLettered, entry.EnqueuedAt)
            {
                Attempt = entry.Attempts,
                Errors = entry.Errors,
                FinishedAt = entry.DeadLetteredAt,
                IdempotencyKey = entry.IdempotencyKey,
                DeadLetterQueue = entry.DeadLetterQueue,
            };
        }

        return null;
    }

    public ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        GetQueue(queue).SetPaused(paused);
        return default;
    }

    /// <summary>Counts without a lock; running jobs are not tracked here (the dispatcher counts them).</summary>
    public ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken)
    {
        var named = GetQueue(queue);
        return new(new QueueCounts(named.Count, _scheduler.CountFor(queue), Running: null, named.Paused));
    }

    private static JobInfo Describe(JobRecord record, JobState state, DateTimeOffset nextRunAt) =>
        new(record.Id, record.Queue, record.Kind, state, record.EnqueuedAt)
        {
            Attempt = record.Attempt,
            MaxAttempts = record.MaxAttempts,
            Priority = record.Priority,
            Errors = [.. record.Errors],
            IdempotencyKey = record.IdempotencyKey,
            NextRunAt = nextRunAt,
        };

    /// <summary>Fails the producers waiting for room in a bounded queue with <see cref="JobQueueStoppedException"/>: the workers are stopping.</summary>
    void IJobStore.StopAccepting()
    {
        foreach (var queue in _queues.Values)
        {
            queue.Close();
        }
    }

    public void Dispose() => _scheduler.Dispose();

    private static ValueTask<EnqueueResult> Accept(ValueTask pending, JobId jobId)
    {
        // Completed synchronously: nothing to wait for, and no pooled source to give back.
        if (pending.IsCompletedSuccessfully)
        {
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
            var holder = Claim(job, key);
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
