using AsyncQueue.Monitoring;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncQueue.HealthChecks;

/// <summary>Unhealthy when the workers are not running; degraded when a queue is deeper, or the dead letters grew faster, than the thresholds.</summary>
/// <remarks>Reads only the public <see cref="IJobQueueMonitor"/>, as any third-party check could.</remarks>
internal sealed class JobQueueHealthCheck(IJobQueueMonitor monitor, JobQueueHealthCheckOptions options) : IHealthCheck
{
    // -1 until the first check: growth is measured between two checks.
    private long _lastDeadLetters = -1;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!monitor.WorkersRunning)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The job queue's workers are not running (not started, stopping, or stopped).");
        }

        var data = new Dictionary<string, object>();
        var problems = new List<string>();
        long total = 0;
        foreach (var queue in monitor.Queues)
        {
            var status = await monitor.GetStatusAsync(queue.Name, cancellationToken).ConfigureAwait(false);
            data[$"depth:{queue.Name}"] = status.Waiting;
            if (status.Waiting > options.MaxQueueDepth)
            {
                problems.Add($"queue '{queue.Name}' holds {status.Waiting} waiting jobs (threshold {options.MaxQueueDepth})");
            }

            // Queues may share a dead-letter queue: count each once.
            if (data.TryAdd($"dead-letters:{status.DeadLetterQueue}", status.DeadLettered))
            {
                total += status.DeadLettered;
            }
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
