using AsyncQueue.Monitoring;
using AsyncQueue;
using AsyncQueue.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// AddJobQueue() on IHealthChecksBuilder sits beside the other health checks, in the namespace applications import.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the job queue's health check.</summary>
public static class JobQueueHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check that is unhealthy when the job queue's workers are not running, and degraded when a queue's
    /// depth or the dead-letter queues' growth passes the configured thresholds.
    /// </summary>
    /// <param name="builder">The health checks builder from <c>services.AddHealthChecks()</c>.</param>
    /// <param name="configure">Sets the thresholds.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported when the workers are not running.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is negative.</exception>
    public static IHealthChecksBuilder AddJobQueue(
        this IHealthChecksBuilder builder,
        Action<JobQueueHealthCheckOptions>? configure = null,
        string name = "asyncqueue",
        HealthStatus failureStatus = HealthStatus.Unhealthy,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new JobQueueHealthCheckOptions();
        configure?.Invoke(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxQueueDepth ?? 0, "MaxQueueDepth");
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxDeadLetterGrowth ?? 0, "MaxDeadLetterGrowth");

        // One instance per registration: it remembers the dead-letter count of the previous check.
        JobQueueHealthCheck? check = null;
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => check ??= new JobQueueHealthCheck(sp.GetRequiredService<IJobQueueMonitor>(), options),
            failureStatus,
            tags));
    }
}
