using System.Diagnostics.Metrics;
using AsyncQueue.DeadLetter;
using AsyncQueue.Diagnostics;
using AsyncQueue.Engine;
using AsyncQueue.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Monitoring;

/// <summary>
/// The <see cref="IJobQueueMonitor"/>, and the source of the queue gauges: the store's counts through the contract,
/// with running jobs from the dispatcher when the store does not track them.
/// </summary>
/// <remarks>
/// A gauge is read on a metrics collection thread and cannot wait for a store's query, so the gauges show the last
/// counts and start the next refresh: with a store that answers at once (the in-memory one) that refresh is already
/// done; with a database the gauges lag one collection.
/// </remarks>
internal sealed class JobQueueMonitor : IJobQueueMonitor
{
    private readonly JobDispatcher _dispatcher;
    private readonly IJobStore _store;
    private readonly DeadLetterTargets _deadLetters;
    private readonly JobRegistry _registry;
    private readonly ILogger _logger;
    private readonly RunningAttemptAges _ages;
    private QueueStatus[] _last = [];
    private int _refreshing;

    public JobQueueMonitor(JobDispatcher dispatcher, IJobStore store, JobRegistry registry, DeadLetterTargets deadLetters, IOptionsMonitor<QueueOptions> queueOptions, TimeProvider time, ILoggerFactory? loggerFactory = null)
    {
        _dispatcher = dispatcher;
        _store = store;
        _deadLetters = deadLetters;
        _registry = registry;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue");
        var durable = (store.Capabilities & JobStoreCapabilities.Durable) != 0;
        Queues = [.. registry.QueueNames.Select(name => Describe(name, queueOptions.Get(name), deadLetters.Of(name), durable))];
        _ages = new RunningAttemptAges(dispatcher, Queues, time);
    }

    public bool WorkersRunning => _dispatcher.WorkersRunning;

    public IReadOnlyList<QueueInfo> Queues { get; }

    public async ValueTask<QueueStatus> GetStatusAsync(string queue, CancellationToken cancellationToken = default)
    {
        var target = _deadLetters.Of(queue);
        var counts = await _store.CountAsync(queue, cancellationToken).ConfigureAwait(false);
        var deadLettered = await _store.DeadLetters.CountAsync(target.Name, cancellationToken).ConfigureAwait(false);
        return new QueueStatus(queue, counts.Waiting, counts.Scheduled, counts.Running ?? _dispatcher.CountBusy(queue), target.Name, deadLettered, counts.Paused);
    }

    public ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken = default) => _dispatcher.GetJobAsync(id, cancellationToken);

    public Task WaitForIdleAsync(string? queue = null, CancellationToken cancellationToken = default) =>
        WaitAsync(queue, includeScheduled: false, cancellationToken);

    public Task WaitUntilEmptyAsync(string? queue = null, CancellationToken cancellationToken = default) =>
        WaitAsync(queue, includeScheduled: true, cancellationToken);

    private async Task WaitAsync(string? queue, bool includeScheduled, CancellationToken cancellationToken)
    {
        var queues = queue is null ? [.. Queues.Select(q => q.Name)] : new[] { _registry.CheckQueue(queue) };

        // Polled on the system clock, not the queue's TimeProvider: this waits for workers, and a test's fake clock
        // must not have to be advanced for it to notice them finish.
        var interval = TimeSpan.FromMilliseconds((_store.Capabilities & JobStoreCapabilities.Durable) != 0 ? 100 : 20);
        while (true)
        {
            // Seen idle twice in a row: a job taken from its queue but not yet marked running is between the two reads
            // of one check for a few instructions, never across two.
            if (await IsIdleAsync(queues, includeScheduled, cancellationToken).ConfigureAwait(false))
            {
                await Task.Yield();
                if (await IsIdleAsync(queues, includeScheduled, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<bool> IsIdleAsync(string[] queues, bool includeScheduled, CancellationToken cancellationToken)
    {
        foreach (var name in queues)
        {
            // Waiting first: a job that moves from waiting to running between the two reads is then seen running.
            var counts = await _store.CountAsync(name, cancellationToken).ConfigureAwait(false);
            var busy = _dispatcher.CountBusy(name);
            if (busy > 0 || counts.Waiting > 0 || counts.Running > 0 || (includeScheduled && counts.Scheduled > 0))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Publishes the queue depth, in-flight, longest-running, dead-letter size and paused gauges.</summary>
    public void Observe(JobQueueMetrics metrics) => metrics.ObserveState(ObserveDepth, ObserveInFlight, ObserveDeadLetters, ObservePaused, _ages.Observe);

    private IEnumerable<Measurement<int>> ObservePaused() =>
        Snapshot().Select(s => new Measurement<int>(s.Paused ? 1 : 0, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(s.Queue)));

    private IEnumerable<Measurement<long>> ObserveDepth() =>
        Snapshot().Select(s => new Measurement<long>(s.Waiting, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(s.Queue)));

    private IEnumerable<Measurement<long>> ObserveInFlight() =>
        Queues.Select(q => new Measurement<long>(_dispatcher.CountBusy(q.Name), JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(q.Name)));

    private IEnumerable<Measurement<long>> ObserveDeadLetters() =>
        Snapshot().DistinctBy(s => s.DeadLetterQueue, StringComparer.Ordinal)
            .Select(s => new Measurement<long>(s.DeadLettered, JobQueueMetrics.SystemTag, new KeyValuePair<string, object?>("messaging.destination.name", s.DeadLetterQueue)));

    /// <summary>The last counts, after starting a refresh unless one is running.</summary>
    private QueueStatus[] Snapshot()
    {
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            _ = RefreshAsync();
        }

        return Volatile.Read(ref _last);
    }

    private async Task RefreshAsync()
    {
        try
        {
            var statuses = new QueueStatus[Queues.Count];
            for (var i = 0; i < statuses.Length; i++)
            {
                statuses[i] = await GetStatusAsync(Queues[i].Name).ConfigureAwait(false);
            }

            Volatile.Write(ref _last, statuses);
        }
#pragma warning disable CA1031 // A store that cannot count now leaves the gauges at their last values; the next collection tries again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StoreFailed(_logger, ex, "count", "(all)");
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private static QueueInfo Describe(string name, QueueOptions options, DeadLetterTarget target, bool durable) =>
        new(name, options.MaxConcurrency, options.Capacity, options.FullMode, options.Timeout, options.IdempotencyRetention, target.Name, target.Retention, target.Capacity, options.FinishedJobRetention, options.FinishedJobsKept(durable));
}
