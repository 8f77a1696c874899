using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Text.Json;
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
/// (WAL mode), so an accepted job survives the process. It keeps facts and applies the dispatcher's decisions; it holds
/// no retry or dead-letter policy.
/// </summary>
/// <remarks>
/// <para>
/// One writer connection, driven by one loop (<see cref="SqliteJobStore"/>.Writer.cs), runs every write: callers queue a
/// request and await it; the loop takes every queued request and runs them in one transaction (group commit), so many
/// enqueues, acknowledgements and leases share one commit. A separate connection serves <see cref="CountAsync"/>.
/// </para>
/// <para>
/// Delivery is at least once: a fetched job is leased to one attempt with a fencing token; this process extends the
/// leases of the jobs it holds (heartbeat); a lease that expires is taken over by the sweeper of a process on the file
/// and handed to the dispatcher (<see cref="OpenExpiredLeaseConsumer"/>), which decides its fate. Every settle is
/// conditional on the token (see docs/delivery.md). The partial files: .Enqueue, .Leases (lease and heartbeat),
/// .Settle, .Rescue (expired-lease takeover), .Sweep (keys, finished statuses and dead-letter eviction), .DeadLetters,
/// .Counts, .Operations (status, cancel, pause), and the SQLite-specific .Writer and .Checkpoint.
/// </para>
/// </remarks>
[RequiresUnreferencedCode(SqliteJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(SqliteJobQueueBuilderExtensions.SerializationMessage)]
internal sealed partial class SqliteJobStore : IJobStore, IAsyncDisposable
{
    private readonly SqliteStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SqliteStoreMetrics _metrics;
    private readonly JobPayloads _payloads;
    private readonly FrozenDictionary<string, SqliteQueue> _queues;
    private readonly SqliteQueue[] _queueList;
    private readonly SqliteConnection _writer;
    private readonly SqliteStatements _sql;
    private readonly SqliteConnection _reader;
    private readonly SqliteStatement _count;
    private readonly SqliteStatement _status;
    private readonly SqliteStatement _deadLetterStatus;
    private readonly Lock _readerGate = new();
    private readonly Channel<WriteOp> _ops = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    // The jobs this process leased and has not settled (taken by a worker, still in a queue's Ready channel, or taken
    // over from an expired lease for the dispatcher): the heartbeat extends their leases, and the sweeper never
    // rescues them while this process is alive.
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
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue.Sqlite");
        _payloads = new JobPayloads(kinds, _options.SerializerOptions, "SQLite");
        _queueList = [.. kinds.QueueNames.Select((name, index) => new SqliteQueue(index, name, queueOptions.Get(name)))];
        _queues = _queueList.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);
        _queueNamesJson = JsonSerializer.Serialize(_queueList.Select(q => q.Name).ToArray(), SqliteJsonContext.Default.StringArray);

        // Long-lived connections: pooling would only keep the file open after the store is disposed.
        var builder = new SqliteConnectionStringBuilder(_options.ConnectionString) { Pooling = false };
        var connectionString = builder.ToString();
        _writer = SqliteSchema.Open(connectionString, _options.Synchronous, createSchema: true);
        try
        {
            _sql = new SqliteStatements(_writer);
            _reader = SqliteSchema.Open(connectionString, _options.Synchronous, createSchema: false);
            _count = new SqliteStatement(_reader, CountSql, "$queue", "$now");
            _status = new SqliteStatement(_reader, $"SELECT {SqliteStatements.StatusColumns} FROM asyncqueue_jobs WHERE id = $id ORDER BY seq DESC LIMIT 1", "$id");
            _deadLetterStatus = new SqliteStatement(_reader, $"SELECT {SqliteStatements.DeadLetterColumns} FROM asyncqueue_dead_letters WHERE id = $id", "$id");
            ReportOpened(builder.DataSource);
            StartCheckpointer(connectionString);
        }
        catch
        {
            _deadLetterStatus?.Dispose();
            _status?.Dispose();
            _count?.Dispose();
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

        // Sweep at once: what a crashed predecessor left leased may have expired already.
        RequestSweep();
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

        // No more leases; then wait for one request, so that every earlier cycle has published what it leased.
        _closing = true;
        await _wakeTimer.DisposeAsync().ConfigureAwait(false);
        await _heartbeatTimer.DisposeAsync().ConfigureAwait(false);
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        await Post(new FuncOp<bool>("barrier", static _ => true)).Task.ConfigureAwait(false);

        // Hand back what was leased for this process's workers and never started (no attempt spent), and what was
        // taken over from expired leases and never settled (expired again at once, for the next rescue anywhere).
        var releases = new List<Task>();
        foreach (var queue in _queueList)
        {
            while (queue.Ready.Reader.TryRead(out var job))
            {
                releases.Add(Post(new SettleOp(this, SettleKind.Release, job, (SqliteLease)job.StoreData!)).Task);
            }
        }

        releases.AddRange(ExpireUnsettledRescues());
        try
        {
            await Task.WhenAll(releases).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed hand-back is not lost: the lease expires and a sweeper takes the job over.
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

        CloseRescue();
        SqliteLog.Closed(_logger, releases.Count);
        lock (_readerGate)
        {
            _closed = true;
            _count.Dispose();
            _status.Dispose();
            _deadLetterStatus.Dispose();
            _reader.Dispose();
        }

        _sql.Dispose();
        _writer.Dispose();
        _metrics.Dispose();
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

    internal SqliteQueue GetQueue(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue : throw new QueueNotConfiguredException(name);

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
