using AsyncQueue.Monitoring;
using AsyncQueue.Dashboard.Throughput;
using AsyncQueue.Recurring;
using AsyncQueue.Storage;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard;

/// <summary>One mapped dashboard: its options, where it is mapped, and the services its pages read.</summary>
internal sealed class MappedDashboard(string pattern, JobQueueDashboardOptions options, IJobQueueMonitor monitor, IJobQueue queue, IDeadLetterQueue deadLetters, ThroughputRecorder throughput, IRecurringJobs? recurring, JobStoreCapabilities capabilities)
{
    /// <summary>The route pattern it was mapped at, without a trailing slash ("" at the root).</summary>
    public string Pattern { get; } = pattern.TrimEnd('/');

    public JobQueueDashboardOptions Options { get; } = options;

    public IJobQueueMonitor Monitor { get; } = monitor;

    public IJobQueue Queue { get; } = queue;

    public IDeadLetterQueue DeadLetters { get; } = deadLetters;

    public ThroughputRecorder Throughput { get; } = throughput;

    /// <summary>The app's recurring jobs, or <see langword="null"/> when it registers none (no <c>AddRecurringJob</c>): then the dashboard has no Recurring page.</summary>
    public IRecurringJobs? Recurring { get; } = recurring;

    /// <summary>Whether the store keeps job status by id (<see cref="JobStoreCapabilities.JobStatus"/>): without it the job page and cancel are not offered.</summary>
    public bool KeepsJobStatus { get; } = (capabilities & JobStoreCapabilities.JobStatus) != 0;

    /// <summary>Whether the store can pause a queue (<see cref="JobStoreCapabilities.Pause"/>): without it no pause button is shown.</summary>
    public bool CanPause { get; } = (capabilities & JobStoreCapabilities.Pause) != 0;

    /// <summary>The dashboard's address for this request: the app's path base, then the pattern.</summary>
    public string BasePath(HttpContext context) => context.Request.PathBase.Add(new PathString(Pattern.Length == 0 ? null : Pattern)).Value ?? "";

    /// <summary>Whether <paramref name="name"/> is a dead-letter queue of a configured queue: the only names the pages open.</summary>
    public bool IsDeadLetterQueue(string name) => Monitor.Queues.Any(q => string.Equals(q.DeadLetterQueue, name, StringComparison.Ordinal));

    /// <summary>Whether <paramref name="name"/> is a recurring job of this process: the only names the recurring actions act on.</summary>
    public bool IsRecurringJob(string name) => Recurring?.List().Any(j => string.Equals(j.Name, name, StringComparison.Ordinal)) == true;

    /// <summary>Whether <paramref name="name"/> is a configured queue.</summary>
    public bool IsQueue(string name) => Monitor.Queues.Any(q => string.Equals(q.Name, name, StringComparison.Ordinal));
}
