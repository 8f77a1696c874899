using System.Globalization;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>Enqueue: one script per call claims each idempotency key and stores each job; bounded queues wait or throw.</summary>
internal sealed partial class RedisJobStore
{
    private const int EnqueueFields = 13;

    public async ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return (await EnqueueCoreAsync(GetQueue(job.Queue), [job], cancellationToken).ConfigureAwait(false))[0];
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return jobs.Count == 0 ? [] : await EnqueueCoreAsync(GetQueue(JobBatch.QueueOf(jobs)), jobs, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EnqueueResult[]> EnqueueCoreAsync(RedisQueue queue, IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        // Serialized before anything is stored: a job that cannot be serialized fails the call, with nothing accepted.
        var payloads = _payloads.SerializeAll(jobs);
        var results = new EnqueueResult[jobs.Count];
        var stored = 0;
        while (true)
        {
            // A lone due job while a worker of this process waits for one is leased to it by the enqueue script itself
            // (RedisScripts.Enqueue), which saves the fetch's round trip. Under the lease gate, as the fetch loop
            // leases: neither leases for a worker the other has covered, and a count never sees the lease before the
            // job is counted as untaken here.
            var gated = jobs.Count == 1 && MayLeaseOnEnqueue(queue, jobs[0]);
            if (gated)
            {
                await queue.LeaseGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            int done;
            try
            {
                var now = _time.GetUtcNow();
                var leaseExpires = gated && queue.Waiting > queue.Untaken && !CompletionsBehind() ? now.ToUnixTimeMilliseconds() + Ms(_options.LeaseDuration) : 0;
                var capacity = queue.Options.Capacity ?? -1;
                var count = jobs.Count - stored;
                var values = new RedisValue[4 + (count * EnqueueFields) + (leaseExpires > 0 ? 1 : 0)];
                values[0] = now.ToUnixTimeMilliseconds();
                values[1] = capacity;
                values[2] = queue.Options.FullMode == QueueFullMode.Throw ? 1 : 0;
                values[3] = count;
                for (var i = 0; i < count; i++)
                {
                    var job = jobs[stored + i];
                    var o = 4 + (i * EnqueueFields);
                    var runAt = job.NotBefore ?? job.EnqueuedAt;
                    values[o] = IdOf(job.Id);
                    values[o + 1] = job.Kind;
                    values[o + 2] = payloads[stored + i];
                    values[o + 3] = job.Attempt;
                    values[o + 4] = job.MaxAttempts is int max ? max.ToString(CultureInfo.InvariantCulture) : "";
                    values[o + 5] = job.EnqueuedAt.UtcTicks.ToString(CultureInfo.InvariantCulture);
                    values[o + 6] = runAt.UtcTicks.ToString(CultureInfo.InvariantCulture);
                    values[o + 7] = job.NotBefore is { } notBefore && notBefore > now ? DueMs(notBefore) : 0;
                    values[o + 8] = job.IdempotencyKey ?? "";
                    values[o + 9] = JobPayloads.SerializeErrors(job.Errors) ?? "";
                    values[o + 10] = job.TraceParent ?? "";
                    values[o + 11] = job.TraceState ?? "";
                    values[o + 12] = (int)job.Priority;
                }

                if (leaseExpires > 0)
                {
                    values[^1] = leaseExpires;
                }

                var reply = (RedisResult[])(await RunAsync(RedisScripts.Enqueue, queue, values).ConfigureAwait(false))!;
                done = (int)reply[0];
                if (done < 0)
                {
                    // All or nothing: the batch stored nothing.
                    throw new JobQueueFullException(queue.Name, capacity);
                }

                for (var i = 0; i < done; i++)
                {
                    var holder = (string?)reply[1 + i];
                    var job = jobs[stored + i];
                    results[stored + i] = string.IsNullOrEmpty(holder)
                        ? new EnqueueResult(job.Id, EnqueueStatus.Accepted)
                        : new EnqueueResult(ParseId(holder), EnqueueStatus.Duplicate);
                }

                if (leaseExpires > 0 && reply.Length == 2 + done)
                {
                    HandOutEnqueued(queue, values, (long)reply[^1], leaseExpires);
                }
                else
                {
                    // This process's idle workers wake at once; other processes through the script's PUBLISH.
                    queue.Wake.Set();
                }
            }
            finally
            {
                if (gated)
                {
                    queue.LeaseGate.Release();
                }
            }

            stored += done;
            if (stored == jobs.Count)
            {
                return results;
            }

            // A bounded queue in Wait mode is full: jobs stored so far stay accepted; look for room again at the next poll.
            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether a lone job may be leased as it is enqueued: it is due, a worker of this process waits with no job leased
    /// for it, and the queue has no shared rate limit (whose permits only the fetch script counts). Read again under the
    /// lease gate; the script decides the rest (the job is the queue's only due job, the queue is not paused).
    /// </summary>
    private bool MayLeaseOnEnqueue(RedisQueue queue, JobRecord job) =>
        queue.Waiting > queue.Untaken && SharedLimit(queue) is null && (job.NotBefore is not { } notBefore || notBefore <= _time.GetUtcNow());

    /// <summary>
    /// Hands a job the enqueue script leased to this process's workers, as the fetch loop hands out what it leases: the
    /// record as the fetch script's fields would give it (this attempt's number; not isolated, started or cancelled),
    /// held (the heartbeat extends its lease) before a worker can take it.
    /// </summary>
    private void HandOutEnqueued(RedisQueue queue, RedisValue[] values, long token, long expires)
    {
        const int o = 4;
        var id = (string)values[o]!;
        var record = BuildRecord(
            id, queue.Name, (string?)values[o + 1], (string?)values[o + 2], ((long)values[o + 3] + 1).ToString(CultureInfo.InvariantCulture),
            (string?)values[o + 4], (string?)values[o + 5], (string?)values[o + 6], (string?)values[o + 8], (string?)values[o + 9],
            (string?)values[o + 10], (string?)values[o + 11], (string?)values[o + 12], new RedisLease(this, queue, id, token));
        record.LeaseExpiresAt = FromMs(expires);
        _held[id] = record;
        queue.Handed();
        queue.Ready.Writer.TryWrite(record);
    }

    private static string IdOf(JobId id) => id.Value.ToString("N");

    private static JobId ParseId(string id) => new(Guid.ParseExact(id, "N"));
}
