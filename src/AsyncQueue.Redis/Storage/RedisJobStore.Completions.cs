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
    internal const int CompletionBatch = 1_000;

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
    /// With <see cref="RedisStoreOptions.AsynchronousCompletions"/> (the default), while this process's lease on the job
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
        if (!_completions.Writer.TryWrite(new PendingCompletion(job, lease, done)))
        {
            throw new ObjectDisposedException(nameof(RedisJobStore), "The Redis job store is closed.");
        }

        // The worker fetches as soon as this completes: without a buffer leased ahead, lease its next job while the
        // completion is recorded.
        if (_options.LeaseAhead == 0)
        {
            lease.Queue.AddSettled();
        }

        TopUp(lease.Queue);
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
        try
        {
            var now = NowMs;
            var options = queue.Options;

            // A key keeps refusing duplicates for the queue's retention; without one it is freed with the job.
            var keyUntil = options.IdempotencyRetention > TimeSpan.Zero ? SaturatingAdd(now, Ms(options.IdempotencyRetention)) : 0;
            var values = new RedisValue[4 + (batch.Length * 3)];
            values[0] = now;
            values[1] = keyUntil;
            values[2] = Ms(options.FinishedJobRetention);
            values[3] = StoredJobStatus.Capacity(options);
            for (var i = 0; i < batch.Length; i++)
            {
                values[4 + (i * 3)] = batch[i].Lease.Id;
                values[5 + (i * 3)] = batch[i].Lease.Token;
                values[6 + (i * 3)] = batch[i].Job.Result ?? "";
            }

            var reply = (RedisResult[])(await RunAsync(RedisScripts.CompleteMany, queue, values).ConfigureAwait(false))!;
            CountStatusEvictions(queue, (long)reply[0]);
            for (var i = 0; i < batch.Length; i++)
            {
                var pending = batch[i];
                if ((long)reply[1 + i] == 1)
                {
                    pending.Done?.TrySetResult();
                }
                else if (pending.Done is { } done)
                {
                    // Fenced out: the lease expired and the job was taken over; a newer lease owns it. The dispatcher
                    // awaits this one and logs it.
                    done.TrySetException(new JobLeaseLostException(pending.Job.Id, pending.Job.Attempt, "complete"));
                }
                else
                {
                    // Nobody awaits this completion (it was queued while the lease was sure to hold, yet it was taken
                    // over, so the process stalled): say so here, once.
                    var job = pending.Job;
                    RedisLog.CompletionDiscarded(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
                }
            }
        }
#pragma warning disable CA1031 // The callers get the failure; an unrecorded success is rescued when its lease expires.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var waited = 0;
            foreach (var pending in batch)
            {
                waited += pending.Done?.TrySetException(ex) == true ? 1 : 0;
            }

            if (waited < batch.Length)
            {
                // Nobody waits for these: say so here. Their leases expire and they are rescued and run again.
                RedisLog.OperationFailed(_logger, ex, $"record {batch.Length - waited} completion(s)", queue.Name);
            }
        }
        finally
        {
            // Also when the call failed: this process lets go of the jobs, so their leases are no longer extended and
            // expire, and a sweeper takes them over.
            foreach (var pending in batch)
            {
                Forget(pending.Job);
            }
        }
    }

    /// <summary>A completion queued for the next batch; <paramref name="Done"/> is null when nobody waits for it.</summary>
    private sealed record PendingCompletion(JobRecord Job, RedisLease Lease, TaskCompletionSource? Done);
}
