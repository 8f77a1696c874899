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
            var now = _time.GetUtcNow();
            var capacity = queue.Options.Capacity ?? -1;
            var count = jobs.Count - stored;
            var values = new RedisValue[4 + (count * EnqueueFields)];
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

            var reply = (RedisResult[])(await RunAsync(RedisScripts.Enqueue, queue, values).ConfigureAwait(false))!;
            var done = (int)reply[0];
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

            // This process's idle workers wake at once; other processes through the script's PUBLISH.
            queue.Wake.Set();
            stored += done;
            if (stored == jobs.Count)
            {
                return results;
            }

            // A bounded queue in Wait mode is full: jobs stored so far stay accepted; look for room again at the next poll.
            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string IdOf(JobId id) => id.Value.ToString("N");

    private static JobId ParseId(string id) => new(Guid.ParseExact(id, "N"));
}
