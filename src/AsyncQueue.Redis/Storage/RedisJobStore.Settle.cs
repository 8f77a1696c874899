using AsyncQueue.Redis.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>Settling an attempt, each a script that first checks the lease's token: reschedule, dead-letter, cancel, and the recorded start (complete: .Completions).</summary>
internal sealed partial class RedisJobStore
{
    public async ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        await SettleAsync(
            job,
            lease,
            "reschedule",
            RedisScripts.Reschedule,
            lease.Id,
            lease.Token,
            NowMs,
            runAt.UtcTicks,
            DueMs(runAt),
            job.Attempt,
            JobPayloads.SerializeErrors(job.Errors) ?? "",
            job.Isolated ? "1" : "0").ConfigureAwait(false);
        lease.Queue.Wake.Set();
    }

    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var lease = LeaseOf(job);
        var now = NowMs;
        var reply = (RedisResult[])(await SettleAsync(
            job,
            lease,
            "dead-letter",
            RedisScripts.DeadLetter,
            lease.Id,
            lease.Token,
            now,
            target.Name,
            job.Attempt,
            JobPayloads.SerializeErrors(job.Errors) ?? "",
            Ms(target.Retention),
            target.Capacity).ConfigureAwait(false))!;
        ReportDeadLetterEvictions(target.Name, reply, 1);
        if (_queueList.Length > 1)
        {
            await EvictPastCapacityAcrossQueuesAsync(target, cancellationToken).ConfigureAwait(false);
        }

        return new DeadLetterEntry(job, target.Name, FromMs(now));
    }

    public async ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        var queue = lease.Queue;
        var evicted = (long)await SettleAsync(job, lease, "cancel", RedisScripts.MarkCancelled, lease.Id, lease.Token, NowMs, Ms(queue.Options.FinishedJobRetention), StoredJobStatus.Capacity(queue.Options), job.Attempt).ConfigureAwait(false);
        CountStatusEvictions(queue, evicted);
    }

    public async ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var lease = LeaseOf(job);
        if ((long)await RunAsync(RedisScripts.MarkStarted, lease.Queue, lease.Id, lease.Token).ConfigureAwait(false) == 1)
        {
            return true;
        }

        // The lease was lost: the job is not this process's any more, and is not settled by it.
        Forget(job);
        return false;
    }

    /// <summary>Runs a fenced settle script; the job is no longer held whatever happens. A lost lease throws and changes nothing.</summary>
    private async Task<RedisResult> SettleAsync(JobRecord job, RedisLease lease, string operation, RedisScript script, params RedisValue[] values)
    {
        RedisResult reply;
        try
        {
            reply = await RunAsync(script, lease.Queue, values).ConfigureAwait(false);
        }
        finally
        {
            // Also when the call failed (the server was unreachable): this process lets go of the job, so its lease is no
            // longer extended and expires, and a sweeper takes it over. The dispatcher logs the failure.
            Forget(job);
        }

        var lost = reply.Resp2Type == ResultType.Array ? (long)((RedisResult[])reply!)[0] < 0 : (long)reply < 0;
        if (lost)
        {
            // Fenced out: the lease expired and the job was taken over; a newer lease owns it. The dispatcher logs it.
            throw new JobLeaseLostException(job.Id, job.Attempt, operation);
        }

        return reply;
    }

    private void CountStatusEvictions(RedisQueue queue, long evicted)
    {
        if (evicted > 0)
        {
            _metrics.StatusEvictions.Add(evicted, new KeyValuePair<string, object?>("messaging.system", "asyncqueue"), RedisStoreMetrics.Destination(queue.Name));
        }
    }

    /// <summary>Logs and counts the dead letters a script evicted, given as id, kind, reason triples from <paramref name="start"/>.</summary>
    private void ReportDeadLetterEvictions(string deadLetterQueue, RedisResult[] evicted, int start)
    {
        for (var i = start; i + 3 <= evicted.Length; i += 3)
        {
            var reason = (string?)evicted[i + 2] == "c" ? "the dead-letter queue holds more than its capacity" : "older than the dead-letter queue's retention";
            RedisLog.DeadLetterEvicted(_logger, deadLetterQueue, ParseId((string)evicted[i]!), (string?)evicted[i + 1] ?? "", reason);
            _metrics.DeadLetterEvictions.Add(1, RedisStoreMetrics.Destination(deadLetterQueue));
        }
    }

    private static long SaturatingAdd(long ms, long add) => add > long.MaxValue / 2 - ms ? long.MaxValue / 2 : ms + add;
}
