using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using AsyncQueue.Redis.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// The Redis store: every job, retry, delayed job, idempotency key and dead letter lives in Redis, and every operation
/// is one Lua script (<see cref="RedisScripts"/>), so it is atomic. It keeps facts and applies the dispatcher's
/// decisions; it holds no retry or dead-letter policy.
/// </summary>
/// <remarks>
/// <para>
/// Delivery is at least once: a fetched job is leased to one attempt with a fencing token from the queue's <c>INCR</c>
/// counter; this process extends the leases it holds (heartbeat, which also brings back cancel requests); a lease that
/// expires is taken over by the sweeper of a process that runs the queue and handed to the dispatcher
/// (<see cref="OpenExpiredLeaseConsumer"/>). Every settle is a script that first checks the token.
/// </para>
/// <para>
/// One fetch loop per queue leases as many jobs as its workers wait for (plus <see cref="RedisStoreOptions.LeaseAhead"/>),
/// in one script call; completions are recorded in batches (.Completions). The loop sleeps until a worker
/// waits, a wake-up arrives on the queue's pub/sub channel (enqueues, retries and resumes publish one, here or in any
/// other process), the next delayed job falls due, or <see cref="RedisStoreOptions.PollInterval"/> passes. The partial
/// files: .Connect (start-up checks), .Enqueue, .Leases (fetch and heartbeat), .Settle, .Rescue (takeover and sweep),
/// .Operations (cancel, status, pause, counts), .DeadLetters.
/// </para>
/// </remarks>
[RequiresUnreferencedCode(RedisJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(RedisJobQueueBuilderExtensions.SerializationMessage)]
internal sealed partial class RedisJobStore : IJobStore, IAsyncDisposable
{
    private readonly RedisStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisStoreMetrics _metrics;
    private readonly JobPayloads _payloads;
    private readonly IOptionsMonitor<QueueOptions> _queueOptions;
    private readonly FrozenDictionary<string, RedisQueue> _queues;
    private readonly RedisQueue[] _queueList;
    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly string _endpoint;
    private readonly CancellationTokenSource _stopping = new();

    // The jobs this process leased and has not settled (taken by a worker, still in a queue's Ready channel, or taken
    // over from an expired lease for the dispatcher), by id: the heartbeat extends their leases, and the sweeper
    // never takes them over while this process is alive.
    private readonly ConcurrentDictionary<string, JobRecord> _held = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];

    // This process's wake-up message: the enqueue script publishes it, and this process's own subscription ignores it
    // (the enqueue woke the fetch loop already), so a single enqueue costs no second wake-up and no fetch that finds nothing.
    private readonly string _origin = "w" + Guid.NewGuid().ToString("N");
    private int _disposed;

    public RedisJobStore(
        IOptions<RedisStoreOptions> options,
        IJobKindRegistry kinds,
        IOptionsMonitor<QueueOptions> queueOptions,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kinds);
        ArgumentNullException.ThrowIfNull(queueOptions);

        // Reading the options validates them: a bad setting fails the start, naming the property.
        _options = options.Value;
        _time = time;
        _queueOptions = queueOptions;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue.Redis");
        _payloads = new JobPayloads(kinds, _options.SerializerOptions, "Redis");
        _queueList = [.. kinds.QueueNames.Select(name => new RedisQueue(name, queueOptions.Get(name), _options.KeyPrefix))];
        _queues = _queueList.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);
        (_connection, _endpoint) = Connect(_options, _logger);
        _db = _connection.GetDatabase();
        _metrics = new RedisStoreMetrics(meterFactory);

        var subscriber = _connection.GetSubscriber();
        foreach (var queue in _queueList)
        {
            // A wake-up from any process (an enqueue, a retry, a resume) wakes this queue's fetch loop; a pause anywhere
            // hands back the jobs leased ahead here, so that a paused queue starts none of them.
            subscriber.Subscribe(queue.WakeChannel, (channel, message) =>
            {
                if (message == PauseMessage)
                {
                    _ = HandBackUntakenAsync(queue);
                }
                else if (message != _origin)
                {
                    queue.Wake.Set();
                }
            });
            _loops.Add(Task.Run(() => FetchLoopAsync(queue)));
        }

        _completionLoop = Task.Run(RunCompletionLoopAsync);
        _loops.Add(Task.Run(HeartbeatLoopAsync));
        _loops.Add(Task.Run(SweepLoopAsync));
    }

    public JobStoreCapabilities Capabilities =>
        JobStoreCapabilities.Durable | JobStoreCapabilities.SharedRateLimits | JobStoreCapabilities.Continuations
        | JobStoreCapabilities.IdempotencyKeys | JobStoreCapabilities.InjectedClock | JobStoreCapabilities.JobStatus | JobStoreCapabilities.Pause
        | JobStoreCapabilities.Priorities | JobStoreCapabilities.ExpiringLeases;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The loops end on the stop token; anything else they met was logged already.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        // Record every completion queued before the close (the workers have stopped): none is left to a rescue.
        _completions.Writer.TryComplete();
        await _completionLoop.ConfigureAwait(false);

        // Hand back what was leased for this process's workers and never started (no attempt spent), and what was taken
        // over from expired leases and never settled (expired again, for the next rescue anywhere).
        var released = 0;
        foreach (var queue in _queueList)
        {
            while (queue.Ready.Reader.TryRead(out var job))
            {
                released += await TryReleaseAsync(job).ConfigureAwait(false) ? 1 : 0;
            }

            queue.Ready.Writer.TryComplete(new ObjectDisposedException(nameof(RedisJobStore), "The Redis job store is closed."));
        }

        while (_expired.Reader.TryRead(out var job))
        {
            // Its lease expired again rather than rescheduled: the next rescue, anywhere, learns what this one learned.
            try
            {
                var lease = LeaseOf(job);
                await RunAsync(RedisScripts.Expire, lease.Queue, lease.Id, lease.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Not lost: the lease expires on its own.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        _expired.Writer.TryComplete(new ObjectDisposedException(nameof(RedisJobStore), "The Redis job store is closed."));
        RedisLog.Closed(_logger, released);
        await _connection.CloseAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
        _stopping.Dispose();
    }

    /// <summary>A job leased for a worker of this process and never taken goes back as it was: its attempt undone, due now.</summary>
    private async Task<bool> TryReleaseAsync(JobRecord job)
    {
        try
        {
            job.Attempt--;
            await RescheduleAsync(job, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // A failed hand-back is not lost: the lease expires and a sweeper takes the job over.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    private RedisLease LeaseOf(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.StoreData is RedisLease lease && lease.Store == this
            ? lease
            : throw new ArgumentException($"Job {job.Id} was not handed out by this Redis job store, so it cannot be settled here.", nameof(job));
    }

    internal RedisQueue GetQueue(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw new QueueNotConfiguredException(name);

    private Task<RedisResult> RunAsync(RedisScript script, RedisQueue queue, params RedisValue[] values) =>
        script.RunAsync(_db, name => RedisLog.ScriptReloaded(_logger, _endpoint, name), queue.Base, values);

    /// <summary>
    /// Waits on the store's clock (tests move it) until <paramref name="deadline"/>, or until <paramref name="wake"/>
    /// completes. The deadline is absolute, taken before the work that preceded the wait: a clock that moved on during
    /// that work (or while the timer was being set) is seen, rather than waited out for a whole period more.
    /// </summary>
    private async Task SleepUntilAsync(DateTimeOffset deadline, Task wake, CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested || wake.IsCompleted)
        {
            return;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var wait = deadline == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : deadline - _time.GetUtcNow();
        if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero)
        {
            return;
        }

        var delay = wait == Timeout.InfiniteTimeSpan ? Task.Delay(Timeout.Infinite, timer.Token) : Task.Delay(wait, _time, timer.Token);
        if (deadline == DateTimeOffset.MaxValue || _time.GetUtcNow() < deadline)
        {
            await Task.WhenAny(wake, delay).ConfigureAwait(false);
        }

        await timer.CancelAsync().ConfigureAwait(false);
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A time as the scripts compare it: Unix milliseconds, rounded up, so a job is never due before its time.</summary>
    private static long DueMs(DateTimeOffset at)
    {
        var ms = at.ToUnixTimeMilliseconds();
        return DateTimeOffset.FromUnixTimeMilliseconds(ms) < at ? ms + 1 : ms;
    }

    private static long Ms(TimeSpan span) => span >= TimeSpan.FromDays(365 * 1000) ? long.MaxValue / 4 : (long)span.TotalMilliseconds;

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
