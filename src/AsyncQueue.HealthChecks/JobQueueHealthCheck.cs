using AsyncQueue.Engine;
using AsyncQueue.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncQueue.HealthChecks;

/// <summary>Unhealthy when the workers are not running; degraded when a queue is deeper, or the dead letters grew faster, than the thresholds.</summary>
internal sealed class JobQueueHealthCheck(JobDispatcher dispatcher, IJobStore store, IDeadLetterQueue deadLetters, JobQueueHealthCheckOptions options) : IHealthCheck
{
    // -1 until the first check: growth is measured between two checks.
    private long _lastDeadLetters = -1;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!dispatcher.WorkersRunning)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The job queue's workers are not running (not started, stopping, or stopped).");
        }

        var data = new Dictionary<string, object>();
        var problems = new List<string>();
        foreach (var queue in dispatcher.QueueNames)
        {
            var depth = store.CountWaiting(queue);
            data[$"depth:{queue}"] = depth;
            if (depth > options.MaxQueueDepth)
            {
                problems.Add($"queue '{queue}' holds {depth} waiting jobs (threshold {options.MaxQueueDepth})");
            }
        }

        long total = 0;
        foreach (var name in dispatcher.DeadLetterQueueNames)
        {
            var size = await deadLetters.CountAsync(name, cancellationToken).ConfigureAwait(false);
            data[$"dead-letters:{name}"] = size;
            total += size;
        }

        var previous = Interlocked.Exchange(ref _lastDeadLetters, total);
        if (previous >= 0 && total - previous > options.MaxDeadLetterGrowth)
        {
            problems.Add($"{total - previous} jobs were dead-lettered since the last check (threshold {options.MaxDeadLetterGrowth})");
        }

        return problems.Count == 0
            ? HealthCheckResult.Healthy("The job queue's workers are running.", data)
            : HealthCheckResult.Degraded("The job queue is degraded: " + string.Join("; ", problems) + ".", data: data);
    }
}
