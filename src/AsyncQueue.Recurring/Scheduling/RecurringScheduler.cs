using System.Reflection;
using AsyncQueue.Monitoring;
using AsyncQueue.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Recurring.Scheduling;

/// <summary>
/// Enqueues each recurring job at its ticks, in every process that registers it: each tick's job carries the idempotency
/// key of that tick, so the store accepts one job per tick however many processes enqueue it. No lock is taken, so a
/// crashed process holds nothing up; a process that is down or stalled is simply not one of those enqueueing.
/// </summary>
/// <remarks>
/// One loop serves every recurring job: it enqueues what is due, then waits on the <see cref="TimeProvider"/> until the
/// earliest next tick, or until <see cref="SetPaused"/> or <see cref="Remove"/> wakes it.
/// </remarks>
internal sealed partial class RecurringScheduler : IRecurringJobs, IHostedService, IDisposable
{
    /// <summary>How long a failed enqueue (store unreachable) waits before it is tried again.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    // The longest single wait, so that a wall clock set forward or back is noticed within it.
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    // A restart looks back no further than this, whatever the idempotency retention, to bound the work at start.
    private static readonly TimeSpan MaxLookback = TimeSpan.FromDays(366);

    private readonly Lock _gate = new();
    private readonly List<Entry> _entries;
    private readonly IJobQueue _queue;
    private readonly IJobStore _store;
    private readonly IJobKindRegistry _kinds;
    private readonly IJobQueueMonitor _monitor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private CancellationTokenSource? _wake;
    private Task? _loop;
    private long _waits;
    private int _disposed;

    public RecurringScheduler(IEnumerable<RecurringJobDefinition> jobs, IJobQueue queue, IJobStore store, IJobKindRegistry kinds, IJobQueueMonitor monitor, TimeProvider time, ILogger<RecurringScheduler> logger)
    {
        _entries = [.. jobs.Select(j => new Entry(j))];
        _queue = queue;
        _store = store;
        _kinds = kinds;
        _monitor = monitor;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets how many times the loop has armed its timer and begun to wait: tests move a fake clock only then.</summary>
    internal long Waits => Volatile.Read(ref _waits);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in _entries)
        {
            // The same rule as the core's JobKindAttribute: the attribute's kind, else the type's name.
            var kind = entry.Job.JobType.GetCustomAttribute<JobKindAttribute>()?.Kind ?? entry.Job.JobType.Name;
            if (!_kinds.TryGetJobType(kind, out var registered) || registered != entry.Job.JobType)
            {
                throw new JobTypeNotRegisteredException(entry.Job.JobType);
            }
        }

        // Only a durable store remembers which ticks were enqueued before this process started; with FireOnceNow, a
        // restart offers the store the latest tick it may have missed, keyed as always, and the store refuses it if it
        // was enqueued. It looks back no further than a key is kept (the shortest IdempotencyRetention of any queue),
        // since a tick older than that could be run twice.
        var lookback = (_store.Capabilities & JobStoreCapabilities.Durable) != 0 && _monitor.Queues.Count > 0
            ? TimeSpan.FromTicks(Math.Min(_monitor.Queues.Min(q => q.IdempotencyRetention).Ticks, MaxLookback.Ticks))
            : TimeSpan.Zero;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var entry in _entries)
            {
                entry.Cursor = entry.Job.Misfire == RecurringMisfirePolicy.FireOnceNow ? now - lookback : now;

                // Shown at once, so a caller that lists the jobs right after the host started sees each next run.
                entry.NextRun = CronTicks.Next(entry.Job, now);
            }
        }

        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            // As BackgroundService does: when the host's shutdown timeout fires (an enqueue stuck on a store that does
            // not answer), stop waiting without failing the stop; the loop ends with its enqueue.
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    // Once, though DI calls it for each registration that hands out this instance. Cancelled first: a loop that outlived
    // a timed-out stop sees the cancellation before it could touch a disposed source.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            // The wake-up source is set before the entries are read, so a change made after the read cancels this wait.
            var wake = new CancellationTokenSource();
            Entry[] entries;
            lock (_gate)
            {
                _wake = wake;
                entries = [.. _entries];
            }

            var now = _time.GetUtcNow();
            var earliest = now + MaxWait;
            try
            {
                foreach (var entry in entries)
                {
                    if (await FireDueAsync(entry, now, stopping).ConfigureAwait(false) is { } next && next < earliest)
                    {
                        earliest = next;
                    }
                }
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                // An enqueue cut short by the stop (a wait for room, a store call cancelled): its tick is left to the
                // other processes, or to this one's misfire policy when it starts again. The stop itself must not fail.
                return;
            }

            // A linked source is disposed (it registers on both); the wake source is not: Wake may still cancel it, and
            // a source with no timer and no wait handle holds nothing to release.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, wake.Token);
            try
            {
                var delay = earliest - now;
                if (delay > TimeSpan.Zero)
                {
                    var waiting = Task.Delay(delay, _time, linked.Token);
                    Interlocked.Increment(ref _waits);
                    await waiting.ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
