using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>Enqueue: idempotency keys checked and jobs inserted in one transaction; bounded queues wait or throw.</summary>
internal sealed partial class SqliteJobStore
{
    public async ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return (await EnqueueCoreAsync(GetQueue(job.Queue), [job], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>A continuation: stored by the enqueue path, which looks up its parent in the same transaction.</summary>
    public ValueTask<EnqueueResult> EnqueueContinuationAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.ParentId is null || job.IdempotencyKey is not null)
        {
            throw new ArgumentException("A continuation has a ParentId and no IdempotencyKey.", nameof(job));
        }

        return EnqueueAsync(job, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return jobs.Count == 0 ? [] : await EnqueueCoreAsync(GetQueue(JobBatch.QueueOf(jobs)), jobs, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EnqueueResult[]> EnqueueCoreAsync(SqliteQueue queue, IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        // Serialized on the caller's thread, so the writer loop only writes.
        var payloads = _payloads.SerializeAll(jobs);

        var results = new EnqueueResult[jobs.Count];
        var stored = 0;
        while (true)
        {
            // Taken before the attempt, so a lease that frees room while the attempt finds the queue full is not missed.
            var roomFreed = queue.RoomFreed;
            stored = await Post(new EnqueueOp(this, queue, jobs, payloads, stored, results)).Task.ConfigureAwait(false);
            if (stored == jobs.Count)
            {
                return results;
            }

            // A bounded queue in Wait mode is full: jobs stored so far stay accepted; wait for room for the rest.
            await WaitForRoomAsync(roomFreed, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForRoomAsync(Task roomFreed, CancellationToken cancellationToken)
    {
        // Room appears when this process leases jobs of the queue, or when another process does (seen at the next poll).
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var poll = Task.Delay(_options.PollInterval, _time, stopWaiting.Token);
        await Task.WhenAny(roomFreed, poll).ConfigureAwait(false);
        await stopWaiting.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    internal void ExecuteEnqueue(EnqueueOp op, WriteCycle cycle)
    {
        var queue = op.Queue;
        var jobs = op.Jobs;
        var end = jobs.Count;
        if (queue.Options.Capacity is int capacity)
        {
            // Only jobs ready to run take room; delayed jobs take it when they fall due, and are never refused then.
            var room = capacity - _sql.CountDue.ScalarInt64(queue.Name, cycle.NowTicks);
            if (queue.Options.FullMode == QueueFullMode.Throw)
            {
                var ready = 0;
                for (var i = op.Start; i < end; i++)
                {
                    ready += IsDelayed(jobs[i], cycle) ? 0 : 1;
                }

                if (ready > room)
                {
                    // All or nothing: the batch writes nothing.
                    op.Full(new JobQueueFullException(queue.Name, capacity));
                    return;
                }
            }
            else
            {
                for (var i = op.Start; i < end; i++)
                {
                    if (!IsDelayed(jobs[i], cycle) && room-- <= 0)
                    {
                        end = i;
                        break;
                    }
                }
            }
        }

        for (var i = op.Start; i < end; i++)
        {
            var job = jobs[i];
            if (job.ParentId is { } parentId)
            {
                if (!InsertContinuation(op, i, parentId, cycle))
                {
                    return;
                }

                continue;
            }

            var holdsKey = 0;
            if (job.IdempotencyKey is { } key)
            {
                if (FindLiveKeyHolder(key, cycle) is { } holder)
                {
                    op.Results[i] = new EnqueueResult(holder, EnqueueStatus.Duplicate);
                    continue;
                }

                holdsKey = 1;
            }

            _sql.Insert.Execute(
                job.Id.Value,
                queue.Name,
                job.Kind,
                op.Payloads[i],
                (job.NotBefore ?? job.EnqueuedAt).UtcTicks,
                job.Attempt,
                job.MaxAttempts,
                job.EnqueuedAt.UtcTicks,
                job.IdempotencyKey,
                holdsKey,
                JobPayloads.SerializeErrors(job.Errors),
                job.TraceParent,
                job.TraceState,
                (int)job.Priority);
            op.Results[i] = new EnqueueResult(job.Id, EnqueueStatus.Accepted);
        }

        op.Stored(end);
    }

    /// <summary>
    /// Stores a continuation as its parent's state says: due after a success, due and failed after a dead letter or a
    /// cancel, awaiting otherwise. <see langword="false"/> when no job has the parent's id: the request is refused.
    /// </summary>
    private bool InsertContinuation(EnqueueOp op, int index, JobId parentId, WriteCycle cycle)
    {
        long? parentState = null;
        using (var reader = _sql.FindById.Query(parentId.Value))
        {
            if (reader.Read())
            {
                parentState = reader.GetInt64(1);
            }
        }

        if (parentState is null && _sql.HasDeadLetter.ScalarInt64(parentId.Value) != 0)
        {
            parentState = StoredJobStatus.Cancelled;
        }

        if (parentState is not { } state)
        {
            op.Refuse(new ParentJobNotFoundException(parentId));
            return false;
        }

        var job = op.Jobs[index];
        var failed = state == StoredJobStatus.Cancelled;
        _sql.InsertContinuation.Execute(
            job.Id.Value,
            op.Queue.Name,
            job.Kind,
            op.Payloads[index],
            state is StoredJobStatus.Succeeded or StoredJobStatus.Cancelled ? StoredJobStatus.Waiting : StoredJobStatus.AwaitingParent,
            failed ? cycle.NowTicks : (job.NotBefore ?? job.EnqueuedAt).UtcTicks,
            job.Attempt,
            job.MaxAttempts,
            job.EnqueuedAt.UtcTicks,
            JobPayloads.SerializeErrors(job.Errors),
            job.TraceParent,
            job.TraceState,
            (int)job.Priority,
            parentId.Value,
            (int)job.OnParentFailure,
            failed ? 1 : 0);
        op.Results[index] = new EnqueueResult(job.Id, EnqueueStatus.Accepted);
        return true;
    }

    /// <summary>
    /// Finds the job holding a key: one waiting or running, or succeeded within its retention. A succeeded job's expired
    /// key is freed here, in the same transaction as the insert that takes it; its status stays for its own retention.
    /// </summary>
    private JobId? FindLiveKeyHolder(string key, WriteCycle cycle)
    {
        long seq;
        Guid id;
        long state;
        long? expires;
        using (var reader = _sql.FindKeyHolder.Query(key))
        {
            if (!reader.Read())
            {
                return null;
            }

            seq = reader.GetInt64(0);
            id = reader.GetGuid(1);
            state = reader.GetInt64(2);
            expires = reader.IsDBNull(3) ? null : reader.GetInt64(3);
        }

        if (state != 2 || expires > cycle.NowTicks)
        {
            return new JobId(id);
        }

        _sql.ReleaseKey.Execute(seq);
        return null;
    }

    private static bool IsDelayed(JobRecord job, WriteCycle cycle) => job.NotBefore is { } notBefore && notBefore > cycle.Now;
}
