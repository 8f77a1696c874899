using System.Threading.Channels;
using AsyncQueue.Redis.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>Completions, recorded in batches: one script call settles every completion queued meanwhile, each fenced by its own token.</summary>
internal sealed partial class RedisJobStore
{
    // The most completions one script call records: large enough that a busy queue needs few calls, small enough that
    // one call never holds Redis (which runs a script alone) for long.
    private const int CompletionBatch = 1_000;

    // What the complete script takes per job: id, token, result, finish time, key retained until.
    private const int CompletionFields = 5;

    // The completions queued (not yet recorded) past which the fetch loops lease nothing: two full script calls waiting
    // means Redis falls behind the workers, and leasing more would only grow what a crash leaves leased.
    private const int MaxQueuedCompletions = 2 * CompletionBatch;

    // Completions queued and not yet through their script (barriers not counted); and 1 while a fetch loop holds back
    // for them (the completion loop then wakes the loops once the backlog is under the bound). The flag is set before
    // the count is read again, and the count lowered before the flag is taken, so a loop that holds back either sees
    // the lowered count or is woken.
    private int _queuedCompletions;
    private int _leasingHeldBack;

    private readonly Channel<PendingCompletion> _completions = Channel.CreateUnbounded<PendingCompletion>(new UnboundedChannelOptions
    {
        SingleReader = true,
        AllowSynchronousContinuations = false,
    });

    private readonly Task _completionLoop;

    /// <summary>
    /// Records a success. Completions are batched: a loop takes every completion queued meanwhile and records them in one
    /// script call per queue, so the workers share one round trip.
    /// </summary>
    /// <remarks>
    /// With <see cref="RedisStoreOptions.AsynchronousCompletions"/>, while this process's lease on the job
    /// is sure to hold for at least half of <see cref="RedisStoreOptions.LeaseDuration"/> more (always, unless heartbeats
    /// failed or the process stalled), the completion is queued and the worker goes on at once: no other attempt can
    /// take the job before the script runs, so the fenced write cannot fail for a lost lease. Delivery stays at least
    /// once (docs/delivery.md): if the process dies before the queued completion is recorded, the job was in flight and
    /// runs again, exactly as when it dies while waiting for Redis; the store's disposal records whatever is queued. The
    /// job stays held (its lease extended by the heartbeat) until the script has run. A completion that fails anyway
    /// (Redis unreachable) is logged, its lease expires and the job is rescued and runs again. A lease that may be close
    /// to expiry still waits, so a late attempt learns with a <see cref="JobLeaseLostException"/> that its outcome was
    /// discarded.
    /// </remarks>
    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        var safe = _options.AsynchronousCompletions && job.LeaseExpiresAt is { } expires && _time.GetUtcNow() + (_options.LeaseDuration / 2) < expires;
        var done = safe ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The finish time (and so the key's retention) is the call's, not the batch's.
        Interlocked.Increment(ref _queuedCompletions);
        if (!_completions.Writer.TryWrite(new PendingCompletion(job, lease, NowMs, done)))
        {
            Interlocked.Decrement(ref _queuedCompletions);
            throw new ObjectDisposedException(nameof(RedisJobStore), "The Redis job store is closed.");
        }

        // With a buffer leased ahead, the worker fetches next: lease its next job while the completion is recorded. A
        // job leased for a worker that never fetches again stays untaken, so it counts as waiting here (CountAsync,
        // GetJobAsync), and the lease's reply is in before a count reads (LeaseGate). Without a buffer the store leases
        // only for workers already waiting (LeaseForDemandAsync).
        if (_options.LeaseAhead > 0)
        {
            lease.Queue.AddSettled();
            TopUp(lease.Queue);
        }

        return done is null ? default : new ValueTask(done.Task);
    }

    /// <summary>
    /// Waits until every completion queued before the call is recorded, so a count or a status read after
    /// <c>CompleteAsync</c> returned sees the job finished, as it would had the worker waited for Redis. Nothing is
    /// awaited when no completion is queued; else a barrier goes through the completion queue, in order.
    /// </summary>
    private async ValueTask CompletionsRecordedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _queuedCompletions) == 0)
        {
            return;
        }

        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_completions.Writer.TryWrite(new PendingCompletion(null, null, 0, recorded)))
        {
            await recorded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether the queued completions outrun their scripts (more than <see cref="MaxQueuedCompletions"/> wait): then the
    /// fetch loops lease nothing until the completion loop catches up and wakes them. Back-pressure on leasing, so a
    /// busy server bounds the jobs left leased (and run again after a crash) instead of letting them pile up.
    /// </summary>
    private bool CompletionsBehind()
    {
        if (Volatile.Read(ref _queuedCompletions) < MaxQueuedCompletions)
        {
            return false;
        }

        Interlocked.Exchange(ref _leasingHeldBack, 1);
        return Volatile.Read(ref _queuedCompletions) >= MaxQueuedCompletions;
    }

    /// <summary>Records queued completions until the store is closed and the queue drained: one script call per queue per batch.</summary>
    private async Task RunCompletionLoopAsync()
    {
        var reader = _completions.Reader;
        var batch = new List<PendingCompletion>(CompletionBatch);
        var barriers = new List<TaskCompletionSource>();
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            barriers.Clear();
            while (batch.Count < CompletionBatch && reader.TryRead(out var pending))
            {
                if (pending.Lease is null)
                {
                    // A barrier (CompletionsRecordedAsync): released once everything read with it is recorded, which
                    // includes every completion queued before it.
                    barriers.Add(pending.Done!);
                    continue;
                }

                batch.Add(pending);
            }

            foreach (var group in batch.GroupBy(pending => pending.Lease!.Queue))
            {
                await CompleteBatchAsync(group.Key, [.. group]).ConfigureAwait(false);
            }

            if (Interlocked.Add(ref _queuedCompletions, -batch.Count) < MaxQueuedCompletions && Interlocked.Exchange(ref _leasingHeldBack, 0) == 1)
            {
                foreach (var queue in _queueList)
                {
                    queue.Wake.Set();
                }
            }

            foreach (var barrier in barriers)
            {
                barrier.TrySetResult();
            }
        }
    }

    private async Task CompleteBatchAsync(RedisQueue queue, PendingCompletion[] batch)
    {
        RedisResult[]? reply = null;
        Exception? failure = null;
        try
        {
            var options = queue.Options;
            var values = new RedisValue[2 + (batch.Length * CompletionFields)];
            values[0] = Ms(options.FinishedJobRetention);
            values[1] = StoredJobStatus.Capacity(options);
            for (var i = 0; i < batch.Length; i++)
            {
                var pending = batch[i];
                var o = 2 + (i * CompletionFields);
                values[o] = pending.Lease!.Id;
                values[o + 1] = pending.Lease.Token;
                values[o + 2] = pending.Job!.Result ?? "";
                values[o + 3] = pending.FinishedMs;

                // A key keeps refusing duplicates for the queue's retention; without one it is freed with the job.
                values[o + 4] = options.IdempotencyRetention > TimeSpan.Zero ? SaturatingAdd(pending.FinishedMs, Ms(options.IdempotencyRetention)) : 0;
            }

            reply = (RedisResult[])(await RunAsync(RedisScripts.CompleteMany, queue, values).ConfigureAwait(false))!;
            if (reply.Length != batch.Length + 1)
            {
                throw new InvalidOperationException($"The complete script answered {reply.Length} values for {batch.Length} job(s).");
            }

            CountStatusEvictions(queue, (long)reply[0]);
        }
#pragma warning disable CA1031 // The callers get the failure; an unrecorded success is rescued when its lease expires.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = ex;
        }

        // Let go of the jobs before any caller resumes (as every settle does), also when the call failed: their leases
        // are no longer extended and expire, and a sweeper takes them over; an isolated job's place is free.
        foreach (var pending in batch)
        {
            Forget(pending.Job!);
        }

        if (failure is not null)
        {
            var waited = 0;
            foreach (var pending in batch)
            {
                waited += pending.Done?.TrySetException(failure) == true ? 1 : 0;
            }

            if (waited < batch.Length)
            {
                // Nobody waits for these: say so here. Their leases expire and they are rescued and run again.
                RedisLog.OperationFailed(_logger, failure, $"record {batch.Length - waited} completion(s)", queue.Name);
            }

            return;
        }

        for (var i = 0; i < batch.Length; i++)
        {
            var pending = batch[i];
            if ((long)reply![1 + i] == 1)
            {
                pending.Done?.TrySetResult();
            }
            else if (pending.Done is { } done)
            {
                // Fenced out: the lease expired and the job was taken over; a newer lease owns it. The dispatcher awaits
                // this one and logs it.
                done.TrySetException(new JobLeaseLostException(pending.Job!.Id, pending.Job.Attempt, "complete"));
            }
            else
            {
                // Nobody awaits this completion (it was queued while the lease was sure to hold, yet it was taken over,
                // so the process stalled): say so here, once.
                var job = pending.Job!;
                RedisLog.CompletionDiscarded(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
            }
        }
    }

    /// <summary>
    /// A completion queued for the next batch, finished at <paramref name="FinishedMs"/>; <paramref name="Done"/> is null
    /// when nobody waits for it. Without a job and lease it is a barrier, whose <paramref name="Done"/> is released once
    /// the completions queued before it are recorded.
    /// </summary>
    private sealed record PendingCompletion(JobRecord? Job, RedisLease? Lease, long FinishedMs, TaskCompletionSource? Done);
}
