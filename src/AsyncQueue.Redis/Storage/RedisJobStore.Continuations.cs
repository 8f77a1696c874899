using System.Globalization;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// Continuations (<see cref="JobStoreCapabilities.Continuations"/>), kept on the queue of their parents: registered by
/// one script (<see cref="RedisScripts.Continue"/>), and counted down or failed by the script that settles each parent.
/// A script touches one queue's keys (one Cluster slot), so a continuation and all its parents share a queue.
/// </summary>
internal sealed partial class RedisJobStore
{
    public async ValueTask<EnqueueResult> EnqueueContinuationAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.ParentIds is not { } parentIds || job.IdempotencyKey is not null)
        {
            throw new ArgumentException("A continuation has ParentIds and no IdempotencyKey.", nameof(job));
        }

        var queue = GetQueue(job.Queue);
        var payload = _payloads.SerializeAll([job])[0];
        var values = new RedisValue[15 + parentIds.Count];
        values[0] = NowMs;
        values[1] = IdOf(job.Id);
        values[2] = job.Kind;
        values[3] = payload;
        values[4] = job.Attempt;
        values[5] = job.MaxAttempts is int max ? max.ToString(CultureInfo.InvariantCulture) : "";
        values[6] = job.EnqueuedAt.UtcTicks.ToString(CultureInfo.InvariantCulture);
        values[7] = (job.NotBefore ?? job.EnqueuedAt).UtcTicks.ToString(CultureInfo.InvariantCulture);
        values[8] = job.NotBefore is { } notBefore ? DueMs(notBefore) : 0;
        values[9] = "";
        values[10] = JobPayloads.SerializeErrors(job.Errors) ?? "";
        values[11] = job.TraceParent ?? "";
        values[12] = job.TraceState ?? "";
        values[13] = (int)job.Priority;
        values[14] = job.OnParentFailure == ParentFailureAction.DeadLetter ? 1 : 0;
        for (var i = 0; i < parentIds.Count; i++)
        {
            values[15 + i] = IdOf(parentIds[i]);
        }

        var reply = (RedisResult[])(await RunAsync(RedisScripts.Continue, queue, values).ConfigureAwait(false))!;
        if ((string?)reply[0] == "N")
        {
            var parent = ParseId((string)reply[1]!);
            if (await GetJobAsync(parent, cancellationToken).ConfigureAwait(false) is { } elsewhere)
            {
                throw new NotSupportedException($"Job {parent} is on queue '{elsewhere.Queue}', but its continuation {job.Id} is for queue '{queue.Name}': the Redis job store keeps a continuation only on the queue of all its parents (one Redis Cluster slot). Enqueue it on '{elsewhere.Queue}'.");
            }

            throw new ParentJobNotFoundException(parent);
        }

        queue.Wake.Set();
        return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
    }
}
