using System.Globalization;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>Enqueue: one script per call claims each idempotency key and stores each job; bounded queues wait or throw.</summary>
internal sealed partial class RedisJobStore
{
    // What the enqueue script takes before the jobs (now, capacity, throw, count, origin), and per job before its optional
    // fields (id, kind, payload, enqueued, due, due ms, key, how many optional fields).
    private const int EnqueueHeader = 5;
    private const int EnqueueFields = 8;

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
        var values = new List<RedisValue>(EnqueueHeader + (jobs.Count * EnqueueFields));
        while (true)
        {
            var now = _time.GetUtcNow();
            var capacity = queue.Options.Capacity ?? -1;
            var count = jobs.Count - stored;
            values.Clear();
            values.Add(now.ToUnixTimeMilliseconds());
            values.Add(capacity);
            values.Add(queue.Options.FullMode == QueueFullMode.Throw ? 1 : 0);
            values.Add(count);
            values.Add(_origin);
            for (var i = 0; i < count; i++)
            {
                AddEnqueueValues(values, jobs[stored + i], payloads[stored + i], now);
            }

            RedisResult[] reply;
            try
            {
                reply = (RedisResult[])(await RunAsync(RedisScripts.Enqueue, queue, [.. values]).ConfigureAwait(false))!;
            }
            catch
            {
                // The script may have run and stored the jobs though its reply was lost (a timeout, a dropped connection),
                // and this process ignores its own wake-up message: wake the loop here, as for a job that may be due.
                queue.Wake.Set();
                throw;
            }

            var done = (int)reply[0];
            if (done < 0)
            {
                // All or nothing: the batch stored nothing.
                throw new JobQueueFullException(queue.Name, capacity);
            }

            for (var i = 0; i < done; i++)
            {
                results[stored + i] = new EnqueueResult(jobs[stored + i].Id, EnqueueStatus.Accepted);
            }

            // Only the duplicates are answered: their index and the key's holder.
            for (var i = 2; i + 1 < reply.Length; i += 2)
            {
                results[stored + (int)reply[i]] = new EnqueueResult(ParseId((string)reply[i + 1]!), EnqueueStatus.Duplicate);
            }

            // This process's idle workers wake at once (unless a lease since took these jobs); other processes through the
            // script's PUBLISH.
            queue.Wake.SetEnqueued((long)reply[1]);
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
    /// One job's arguments for the enqueue script: the fields every job has, its due time only when it differs from its
    /// enqueue time, and of the optional fields only those that differ from what a missing field reads as.
    /// </summary>
    private static void AddEnqueueValues(List<RedisValue> values, JobRecord job, string payload, DateTimeOffset now)
    {
        values.Add(IdOf(job.Id));
        values.Add(job.Kind);
        values.Add(payload);
        values.Add(job.EnqueuedAt.UtcTicks.ToString(CultureInfo.InvariantCulture));
        values.Add(job.NotBefore is { } runAt && runAt != job.EnqueuedAt ? runAt.UtcTicks.ToString(CultureInfo.InvariantCulture) : "");
        values.Add(job.NotBefore is { } notBefore && notBefore > now ? DueMs(notBefore) : 0);
        values.Add(job.IdempotencyKey ?? "");
        var counted = values.Count;
        values.Add(0);
        if (job.Attempt != 0)
        {
            values.Add("attempt");
            values.Add(job.Attempt);
        }

        if (job.MaxAttempts is int max)
        {
            values.Add("max");
            values.Add(max);
        }

        if (JobPayloads.SerializeErrors(job.Errors) is { Length: > 0 } errors)
        {
            values.Add("errors");
            values.Add(errors);
        }

        if (!string.IsNullOrEmpty(job.TraceParent))
        {
            values.Add("tp");
            values.Add(job.TraceParent);
        }

        if (!string.IsNullOrEmpty(job.TraceState))
        {
            values.Add("ts");
            values.Add(job.TraceState);
        }

        if (job.Priority != JobPriority.Normal)
        {
            values.Add("prio");
            values.Add((int)job.Priority);
        }

        values[counted] = (values.Count - counted - 1) / 2;
    }

    private static string IdOf(JobId id) => id.Value.ToString("N");

    private static JobId ParseId(string id) => new(Guid.ParseExact(id, "N"));
}
