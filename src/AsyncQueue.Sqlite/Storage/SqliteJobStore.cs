using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using AsyncQueue.Sqlite.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// The embedded durable store: every job, retry, delayed job, idempotency key and dead letter lives in one SQLite file
/// (WAL mode), so an accepted job survives the process. It is also the SQLite <see cref="IDeadLetterQueue"/>.
/// </summary>
/// <remarks>
/// <para>
/// One writer connection, driven by one loop (<see cref="SqliteJobStore"/>.Writer.cs), runs every write: callers queue a
/// request and await it; the loop takes every queued request and runs them in one transaction (group commit), so many
/// enqueues, acknowledgements and leases share one commit. A separate connection serves <see cref="CountWaiting"/>.
/// </para>
/// <para>
/// Delivery is at least once: a fetched job is leased to one attempt with a fencing token; this process extends the
/// leases of the jobs it holds (heartbeat); a lease that expires is rescued by the sweeper of any process on the file,
/// which counts the lost attempt as failed. Every settle is conditional on the token (see docs/delivery.md).
/// </para>
/// </remarks>
[RequiresUnreferencedCode(SqliteJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(SqliteJobQueueBuilderExtensions.SerializationMessage)]
internal sealed partial class SqliteJobStore : IJobStore, IDeadLetterQueue, IDisposable, IAsyncDisposable
{
    private readonly SqliteStoreOptions _options;
    private readonly IJobKindRegistry _kinds;
    private readonly IOptionsMonitor<QueueOptions> _queueOptions;
    private readonly IOptionsMonitor<JobOptions> _jobOptions;
    private readonly DeadLetterNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SqliteStoreMetrics _metrics;
    private readonly JobPayloads _payloads;
    private readonly FrozenDictionary<string, SqliteQueue> _queues;
    private readonly SqliteQueue[] _queueList;
    private readonly SqliteConnection _writer;
    private readonly SqliteStatements _sql;
    private readonly SqliteConnection _reader;
    private readonly SqliteStatement _countWaiting;
    private readonly Lock _readerGate = new();
    private readonly Channel<WriteOp> _ops = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    // The jobs this process leased and has not settled (taken by a worker or still in a queue's Ready channel): the
    // heartbeat extends their leases, and the sweeper never rescues them while this process is alive.
    private readonly ConcurrentDictionary<long, JobRecord> _held = new();
    private readonly SignalOp _wake;
    private readonly SignalOp _heartbeat;
    private readonly SignalOp _sweep;
    private readonly ITimer _wakeTimer;
    private readonly ITimer _heartbeatTimer;
    private readonly ITimer _sweepTimer;
    private readonly Task _writerLoop;
    private volatile bool _closing;
    private bool _closed;
    private int _disposed;

    public SqliteJobStore(
        IOptions<SqliteStoreOptions> options,
        IJobKindRegistry kinds,
        IOptionsMonitor<QueueOptions> queueOptions,
        IOptionsMonitor<JobOptions> jobOptions,
        IEnumerable<IDeadLetterObserver> observers,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kinds);

        // Reading the options validates them: a bad setting fails the start, naming the property.
        _options = options.Value;
        _kinds = kinds;
        _queueOptions = queueOptions;
        _jobOptions = jobOptions;
        _time = time;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue.Sqlite");
        _notifier = new DeadLetterNotifier(observers, (ex, entry) => SqliteLog.ObserverFailed(_logger, ex, entry.JobId, entry.DeadLetterQueue));
        _payloads = new JobPayloads(kinds, _options.SerializerOptions, "SQLite");
        _queueList = [.. kinds.QueueNames.Select((name, index) => new SqliteQueue(index, name, queueOptions.Get(name)))];
        _queues = _queueList.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);

        // Long-lived connections: pooling would only keep the file open after the store is disposed.
        var builder = new SqliteConnectionStringBuilder(_options.ConnectionString) { Pooling = false };
        var connectionString = builder.ToString();
        _writer = SqliteSchema.Open(connectionString, _options.Synchronous, createSchema: true);
        try
        {
            _sql = new SqliteStatements(_writer);
            _reader = SqliteSchema.Open(connectionString, _options.Synchronous, createSchema: false);
            _countWaiting = new SqliteStatement(_reader, "SELECT COUNT(*) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND run_at <= $now", "$queue", "$now");
            ReportOpened(builder.DataSource);
            StartCheckpointer(connectionString);
        }
        catch
        {
            _countWaiting?.Dispose();
            _sql?.Dispose();
            _reader?.Dispose();
            _writer.Dispose();
            throw;
        }

        _metrics = new SqliteStoreMetrics(meterFactory);
        _wake = new SignalOp("lease", static _ => { });
        _heartbeat = new SignalOp("heartbeat", Heartbeat);
        _sweep = new SignalOp("sweep", Sweep);
        _wakeTimer = time.CreateTimer(static state => ((SqliteJobStore)state!).RequestWake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _heartbeatTimer = time.CreateTimer(static state => ((SqliteJobStore)state!).RequestHeartbeat(), this, _options.HeartbeatInterval, _options.HeartbeatInterval);
        _sweepTimer = time.CreateTimer(static state => ((SqliteJobStore)state!).RequestSweep(), this, _options.SweepInterval, _options.SweepInterval);

        // Task.Run: the loop never runs inline in the constructor (which DI may call on a request thread).
        _writerLoop = Task.Run(RunWriterAsync);

        // Rescue at once what a crashed predecessor left leased, if its leases already expired.
        RequestSweep();
    }

    public JobStoreCapabilities Capabilities => JobStoreCapabilities.Durable;

    public async ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var results = await EnqueueCoreAsync(GetQueue(job.Queue), [job], cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return [];
        }

        var queue = GetQueue(jobs[0].Queue);
        foreach (var job in jobs)
        {
            if (job.Queue != queue.Name)
            {
                throw new ArgumentException($"Every job of a batch must name the same queue, but '{queue.Name}' and '{job.Queue}' were mixed.", nameof(jobs));
            }
        }

        return await EnqueueCoreAsync(queue, jobs, cancellationToken).ConfigureAwait(false);
    }

    public IJobConsumer OpenConsumer(string queue)
    {
        var state = GetQueue(queue);
        return new LeasedJobConsumer(state.Ready, state.AddWaiting, RequestWake, StillHolds);
    }

    public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken) =>
        new(Post(new SettleOp(this, SettleKind.Complete, job, LeaseOf(job))).Task);

    public ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken) =>
        new(Post(new SettleOp(this, SettleKind.Reschedule, job, LeaseOf(job)) { RunAt = runAt }).Task);

    public async ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var entry = await Post(new SettleOp(this, SettleKind.DeadLetter, job, LeaseOf(job)) { Target = target }).Task.ConfigureAwait(false);
        return entry!;
    }

    public long CountWaiting(string queue)
    {
        var state = GetQueue(queue);
        long stored;
        lock (_readerGate)
        {
            // Gauges may still be observed after the host stopped: a closed store reports nothing waiting here.
            stored = _closed ? 0 : _countWaiting.ScalarInt64(state.Name, _time.GetUtcNow().UtcTicks);
        }

        // Jobs leased for this process's workers and not yet taken are still waiting to start.
        return stored + state.Ready.Reader.Count;
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // No more leases; then wait for one request, so that every earlier cycle has published what it leased.
        _closing = true;
        await _wakeTimer.DisposeAsync().ConfigureAwait(false);
        await _heartbeatTimer.DisposeAsync().ConfigureAwait(false);
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        await Post(new FuncOp<bool>("barrier", static _ => true)).Task.ConfigureAwait(false);

        // Hand back what was leased for this process's workers and never started: no attempt spent.
        var releases = new List<Task>();
        foreach (var queue in _queueList)
        {
            while (queue.Ready.Reader.TryRead(out var job))
            {
                releases.Add(Post(new SettleOp(this, SettleKind.Release, job, (SqliteLease)job.StoreData!)).Task);
            }
        }

        try
        {
            await Task.WhenAll(releases).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed hand-back is not lost: the lease expires and the sweeper rescues the job.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        _ops.Writer.TryComplete();
        await _writerLoop.ConfigureAwait(false);
        await StopCheckpointerAsync().ConfigureAwait(false);
        foreach (var queue in _queueList)
        {
            queue.Ready.Writer.TryComplete(new ObjectDisposedException(nameof(SqliteJobStore), "The SQLite job store is closed."));
        }

        SqliteLog.Closed(_logger, releases.Count);
        lock (_readerGate)
        {
            _closed = true;
            _countWaiting.Dispose();
            _reader.Dispose();
        }

        _sql.Dispose();
        _writer.Dispose();
        _metrics.Dispose();
    }

    /// <summary>
    /// Whether a leased job still belongs to this process: one that waited untaken while a stall let its lease lapse
    /// (and another process rescued it) must not start here too.
    /// </summary>
    internal bool StillHolds(JobRecord job) =>
        _held.TryGetValue(((SqliteLease)job.StoreData!).Seq, out var held) && ReferenceEquals(held, job);

    /// <summary>Asks the writer loop to lease for waiting workers (after a fetch found nothing, or a timer fired).</summary>
    internal void RequestWake()
    {
        if (_wake.TrySetPending())
        {
            Post(_wake);
        }
    }

    private void RequestHeartbeat()
    {
        if (!_held.IsEmpty && _heartbeat.TrySetPending())
        {
            Post(_heartbeat);
        }
    }

    private void RequestSweep()
    {
        if (_sweep.TrySetPending())
        {
            Post(_sweep);
        }
    }

    private TOp Post<TOp>(TOp op)
        where TOp : WriteOp
    {
        if (!_ops.Writer.TryWrite(op))
        {
            op.Fail(new ObjectDisposedException(nameof(SqliteJobStore), "The SQLite job store is closed."));
        }

        return op;
    }

    /// <summary>Runs a function in the writer's next transaction, after the requests queued before it.</summary>
    internal ValueTask<T> RunAsync<T>(string name, Func<WriteCycle, T> body) => new(Post(new FuncOp<T>(name, body)).Task);

    private SqliteLease LeaseOf(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.StoreData is SqliteLease lease && lease.Store == this
            ? lease
            : throw new ArgumentException($"Job {job.Id} was not handed out by this SQLite job store, so it cannot be settled here.", nameof(job));
    }

    private SqliteQueue GetQueue(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw new QueueNotConfiguredException(name);

    private QueueOptions OptionsOf(string queue) => _queues.TryGetValue(queue, out var state) ? state.Options : _queueOptions.Get(queue);

    private DeadLetterTarget TargetOf(string queue)
    {
        if (_queues.TryGetValue(queue, out var state))
        {
            return state.DeadLetterTarget;
        }

        var options = _queueOptions.Get(queue);
        return new DeadLetterTarget(options.DeadLetterQueue ?? queue + "-dead-letter", options.DeadLetterRetention, options.DeadLetterCapacity);
    }

    private void ReportOpened(string dataSource)
    {
        var waiting = (long)SqliteSchema.Scalar(_writer, "SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 0")!;
        var leased = (long)SqliteSchema.Scalar(_writer, "SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 1")!;
        var dead = (long)SqliteSchema.Scalar(_writer, "SELECT COUNT(*) FROM asyncqueue_dead_letters")!;
        SqliteLog.Opened(_logger, dataSource, waiting, leased, dead);

        var unconfigured = new List<string>();
        long stranded = 0;
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT queue, COUNT(*) FROM asyncqueue_jobs WHERE state IN (0, 1) GROUP BY queue";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (!_queues.ContainsKey(reader.GetString(0)))
            {
                unconfigured.Add(reader.GetString(0));
                stranded += reader.GetInt64(1);
            }
        }

        if (unconfigured.Count > 0)
        {
            SqliteLog.UnconfiguredQueues(_logger, stranded, string.Join(", ", unconfigured));
        }
    }

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>Adds a span to a time in ticks without overflowing: a huge retention means "for ever".</summary>
    private static long AddTicks(long ticks, TimeSpan span) =>
        span.Ticks > DateTimeOffset.MaxValue.UtcTicks - ticks ? DateTimeOffset.MaxValue.UtcTicks : ticks + span.Ticks;

    private static long SubtractTicks(long ticks, TimeSpan span) =>
        span.Ticks > ticks - DateTimeOffset.MinValue.UtcTicks ? DateTimeOffset.MinValue.UtcTicks : ticks - span.Ticks;
}
