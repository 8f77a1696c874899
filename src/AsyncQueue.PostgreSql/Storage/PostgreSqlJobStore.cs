using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// The server store: every job, retry, delayed job, idempotency key and dead letter lives in PostgreSQL, shared by every
/// worker process on the same database and schema. It is also the PostgreSQL <see cref="IDeadLetterQueue"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each configured queue has one fetch loop in this process: it leases, in one round trip
/// (<c>FOR UPDATE SKIP LOCKED</c>), as many due jobs as this process's workers wait for, and hands them to the workers
/// through a channel. It wakes when a worker waits, when this process enqueues, when another process enqueues
/// (LISTEN/NOTIFY, unless <see cref="PostgreSqlStoreOptions.UseListenNotify"/> is off), when the next delayed job falls
/// due, and every <see cref="PostgreSqlStoreOptions.PollInterval"/>.
/// </para>
/// <para>
/// Delivery is at least once: a fetched job is leased to one attempt with a fencing token; this process extends the
/// leases of the jobs it holds (heartbeat); a lease that expires is rescued by the sweeper of any process, which counts
/// the lost attempt as failed. Every settle is conditional on the token (see docs/delivery.md).
/// </para>
/// </remarks>
[RequiresUnreferencedCode(PostgreSqlJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(PostgreSqlJobQueueBuilderExtensions.SerializationMessage)]
internal sealed partial class PostgreSqlJobStore : IJobStore, IDeadLetterQueue, IAsyncDisposable, IDisposable
{
    private readonly PostgreSqlStoreOptions _options;
    private readonly IJobKindRegistry _kinds;
    private readonly IOptionsMonitor<QueueOptions> _queueOptions;
    private readonly IOptionsMonitor<JobOptions> _jobOptions;
    private readonly DeadLetterNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JobPayloads _payloads;
    private readonly FrozenDictionary<string, PostgreSqlQueue> _queues;
    private readonly PostgreSqlQueue[] _queueList;
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource? _listenSource;
    private readonly PostgreSqlStatements _sql;
    private readonly string _channel;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stopping = new();

    // The jobs this process leased and has not settled (taken by a worker or still in a queue's Ready channel): the
    // heartbeat extends their leases, and the sweeper never rescues them while this process is alive.
    private readonly ConcurrentDictionary<long, JobRecord> _held = new();
    private readonly ITimer _heartbeatTimer;
    private readonly ITimer _sweepTimer;
    private readonly Task[] _fetchLoops;
    private readonly Task _listenLoop;
    private readonly Task _completionLoop;
    private readonly Channel<PendingCompletion> _completions = Channel.CreateUnbounded<PendingCompletion>(new UnboundedChannelOptions { SingleReader = true });
    private int _heartbeatRunning;
    private int _sweepRunning;
    private int _disposed;

    public PostgreSqlJobStore(
        IOptions<PostgreSqlStoreOptions> options,
        IJobKindRegistry kinds,
        IOptionsMonitor<QueueOptions> queueOptions,
        IOptionsMonitor<JobOptions> jobOptions,
        IEnumerable<IDeadLetterObserver> observers,
        TimeProvider time,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kinds);

        // Reading the options validates them: a bad setting fails the start, naming the property.
        _options = options.Value;
        _kinds = kinds;
        _queueOptions = queueOptions;
        _jobOptions = jobOptions;
        _time = time;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue.PostgreSql");
        _notifier = new DeadLetterNotifier(observers, (ex, entry) => PostgreSqlLog.ObserverFailed(_logger, ex, entry.JobId, entry.DeadLetterQueue));
        _payloads = new JobPayloads(kinds, _options.SerializerOptions, "PostgreSQL");
        _queueList = [.. kinds.QueueNames.Select(name => new PostgreSqlQueue(name, queueOptions.Get(name)))];
        _queues = _queueList.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);
        _sql = new PostgreSqlStatements(_options.Schema);
        _channel = (_options.Schema + "_jobs")[..Math.Min(63, _options.Schema.Length + 5)];
        _dataSource = PostgreSqlConnections.CreatePool(_options.ConnectionString);
        _listenSource = _options.UseListenNotify ? PostgreSqlConnections.CreateListener(_options.ConnectionString) : null;
        try
        {
            Open();
        }
        catch
        {
            _dataSource.Dispose();
            _listenSource?.Dispose();
            throw;
        }

        _heartbeatTimer = time.CreateTimer(static state => ((PostgreSqlJobStore)state!).RunHeartbeat(), this, _options.HeartbeatInterval, _options.HeartbeatInterval);
        _sweepTimer = time.CreateTimer(static state => ((PostgreSqlJobStore)state!).RunSweep(), this, _options.SweepInterval, _options.SweepInterval);
        _fetchLoops = [.. _queueList.Select(queue => Task.Run(() => RunFetchLoopAsync(queue)))];
        var listenSource = _listenSource;
        _listenLoop = listenSource is null ? Task.CompletedTask : Task.Run(() => RunListenLoopAsync(listenSource));
        _completionLoop = Task.Run(RunCompletionLoopAsync);

        // Rescue at once what a crashed predecessor left leased, if its leases already expired.
        RunSweep();
    }

    public JobStoreCapabilities Capabilities => JobStoreCapabilities.Durable | JobStoreCapabilities.TransactionalEnqueue;

    public IJobConsumer OpenConsumer(string queue)
    {
        var state = GetQueue(queue);
        return new LeasedJobConsumer(state.Ready, state.AddWaiting, state.Wake, StillHolds);
    }

    public long CountWaiting(string queue)
    {
        var state = GetQueue(queue);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Gauges may still be observed after the host stopped: a closed store reports nothing waiting here.
            return 0;
        }

        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand(_sql.CountDue, connection).Text("queue", state.Name).Long("now", _time.GetUtcNow().UtcTicks);
        var stored = (long)command.ExecuteScalar()!;

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

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _heartbeatTimer.DisposeAsync().ConfigureAwait(false);
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll([.. _fetchLoops, _listenLoop]).ConfigureAwait(false);
        _completions.Writer.TryComplete();
        await _completionLoop.ConfigureAwait(false);

        // Hand back what was leased for this process's workers and never started: no attempt spent.
        var released = 0;
        foreach (var queue in _queueList)
        {
            while (queue.Ready.Reader.TryRead(out var job))
            {
                var lease = (PostgreSqlLease)job.StoreData!;
                try
                {
                    using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
                    using var command = new NpgsqlCommand(_sql.Release, connection).Long("seq", lease.Seq).Long("token", lease.Token);
                    released += await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
                {
                    // Not lost: the lease expires and a sweeper rescues the job.
                }
            }

            queue.Ready.Writer.TryComplete(new ObjectDisposedException(nameof(PostgreSqlJobStore), "The PostgreSQL job store is closed."));
        }

        PostgreSqlLog.Closed(_logger, released);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        if (_listenSource is not null)
        {
            await _listenSource.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>
    /// Whether a leased job still belongs to this process: one that waited untaken while its lease was lost (another
    /// process rescued it) must not start here too.
    /// </summary>
    internal bool StillHolds(JobRecord job) =>
        _held.TryGetValue(((PostgreSqlLease)job.StoreData!).Seq, out var held) && ReferenceEquals(held, job);

    private void Open()
    {
        var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString);
        var server = $"{builder.Host}:{builder.Port} (database '{builder.Database ?? builder.Username}', user '{builder.Username}')";
        try
        {
            using var connection = _dataSource.OpenConnection();

            // The constructor runs once, at start, on the host's thread: blocking on the schema work here is the start.
            var schema = _options.MigrateOnStart
                ? PostgreSqlSchema.MigrateAsync(connection, _options.Schema, CancellationToken.None)
                : PostgreSqlSchema.CheckAsync(connection, _options.Schema, CancellationToken.None);
            schema.GetAwaiter().GetResult();
            using var command = new NpgsqlCommand(_sql.Counts, connection);
            using var reader = command.ExecuteReader();
            reader.Read();
            PostgreSqlLog.Opened(_logger, _options.Schema, server, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL job store cannot use the server at {server}: {ex.Message} Check PostgreSqlStoreOptions.ConnectionString (host, port, database, user, password) and that the server is running and accepts connections from this machine.",
                ex);
        }
    }

    private PostgreSqlQueue GetQueue(string name) =>
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

    private PostgreSqlLease LeaseOf(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.StoreData is PostgreSqlLease lease && lease.Store == this
            ? lease
            : throw new ArgumentException($"Job {job.Id} was not handed out by this PostgreSQL job store, so it cannot be settled here.", nameof(job));
    }

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>Adds a span to a time in ticks without overflowing: a huge retention means "for ever".</summary>
    private static long AddTicks(long ticks, TimeSpan span) =>
        span.Ticks > DateTimeOffset.MaxValue.UtcTicks - ticks ? DateTimeOffset.MaxValue.UtcTicks : ticks + span.Ticks;

    private static long SubtractTicks(long ticks, TimeSpan span) =>
        span.Ticks > ticks - DateTimeOffset.MinValue.UtcTicks ? DateTimeOffset.MinValue.UtcTicks : ticks - span.Ticks;
}
