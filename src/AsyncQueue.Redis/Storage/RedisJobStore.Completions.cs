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
        if (!_completions.Writer.TryWrite(new PendingCompletion(job, lease, NowMs, done)))
        {
            throw new ObjectDisposedException(nameof(RedisJobStore), "The Redis job store is closed.");
        }

        // No lease for this worker's next job here: it is leased once the worker waits for it (or is already in the
        // buffer leased ahead). Leasing for a worker still settling left a job leased and counted as running for a
        // worker that might never fetch again, and a count racing that lease's reply read it as running.
        return done is null ? default : new ValueTask(done.Task);
    }

    /// <summary>Records queued completions until the store is closed and the queue drained: one script call per queue per batch.</summary>
    private async Task RunCompletionLoopAsync()
    {
        var reader = _completions.Reader;
        var batch = new List<PendingCompletion>(CompletionBatch);
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < CompletionBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            foreach (var group in batch.GroupBy(pending => pending.Lease.Queue))
            {
                await CompleteBatchAsync(group.Key, [.. group]).ConfigureAwait(false);
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
                values[o] = pending.Lease.Id;
                values[o + 1] = pending.Lease.Token;
                values[o + 2] = pending.Job.Result ?? "";
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
            Forget(pending.Job);
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
                done.TrySetException(new JobLeaseLostException(pending.Job.Id, pending.Job.Attempt, "complete"));
            }
            else
            {
                // Nobody awaits this completion (it was queued while the lease was sure to hold, yet it was taken over,
                // so the process stalled): say so here, once.
                var job = pending.Job;
                RedisLog.CompletionDiscarded(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
            }
        }
    }

    /// <summary>A completion queued for the next batch, finished at <paramref name="FinishedMs"/>; <paramref name="Done"/> is null when nobody waits for it.</summary>
    private sealed record PendingCompletion(JobRecord Job, RedisLease Lease, long FinishedMs, TaskCompletionSource? Done);
}
