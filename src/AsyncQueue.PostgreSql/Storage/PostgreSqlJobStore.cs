using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
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
/// worker process on the same database and schema. Its dead letters are reached through <see cref="DeadLetters"/>.
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
/// leases of the jobs it holds (heartbeat); a lease that expires is taken over by the rescue of a process whose
/// dispatcher runs, which hands it to the dispatcher to decide its fate. Every settle is conditional on the token (see
/// docs/delivery.md). The store keeps facts and applies decisions: no retry policy, no dead-letter rule.
/// </para>
/// <para>
/// The partial files: leases and heartbeats (<c>.Leases.cs</c>), settling an attempt (<c>.Settle.cs</c>), the takeover of
/// expired leases (<c>.Rescue.cs</c>), the sweeper (<c>.Sweep.cs</c>), dead letters (<c>.DeadLetters.cs</c>), counts
/// (<c>.Counts.cs</c>), enqueue (<c>.Enqueue.cs</c>, <c>.Transactional.cs</c>), a job's status, cancel, pause and resume
/// (<c>.Operations.cs</c>) and LISTEN/NOTIFY (<c>.Listen.cs</c>).
/// </para>
/// </remarks>
[RequiresUnreferencedCode(PostgreSqlJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(PostgreSqlJobQueueBuilderExtensions.SerializationMessage)]
internal sealed partial class PostgreSqlJobStore : IJobStore, IAsyncDisposable
{
    private readonly PostgreSqlStoreOptions _options;
    private readonly IJobKindRegistry _kinds;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PostgreSqlStoreMetrics _metrics;
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
    private int _disposed;

    public PostgreSqlJobStore(
        IOptions<PostgreSqlStoreOptions> options,
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
        _kinds = kinds;
        _time = time;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("AsyncQueue.PostgreSql");
        _payloads = new JobPayloads(kinds, _options.SerializerOptions, "PostgreSQL");
        _queueList = [.. kinds.QueueNames.Select(name => new PostgreSqlQueue(name, queueOptions.Get(name)))];
        _queues = _queueList.ToFrozenDictionary(q => q.Name, StringComparer.Ordinal);
        _sweepAfterKept = KeptRowsPerSweep(_queueList);
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

        _metrics = new PostgreSqlStoreMetrics(meterFactory);

        _heartbeatTimer = time.CreateTimer(static state => ((PostgreSqlJobStore)state!).RunHeartbeat(), this, _options.HeartbeatInterval, _options.HeartbeatInterval);
        _sweepTimer = time.CreateTimer(static state => ((PostgreSqlJobStore)state!).RunSweep(), this, _options.SweepInterval, _options.SweepInterval);
        _fetchLoops = [.. _queueList.Select(queue => Task.Run(() => RunFetchLoopAsync(queue)))];
        var listenSource = _listenSource;
        _listenLoop = listenSource is null ? Task.CompletedTask : Task.Run(() => RunListenLoopAsync(listenSource));
        _completionLoop = Task.Run(RunCompletionLoopAsync);

        // Free at once what a crashed predecessor left behind (expired keys, old dead letters); its expired leases wait
        // for this process's dispatcher to open the rescue.
        RunSweep();
    }

    public JobStoreCapabilities Capabilities =>
        JobStoreCapabilities.Durable | JobStoreCapabilities.TransactionalEnqueue | JobStoreCapabilities.SharedRateLimits | JobStoreCapabilities.Continuations
        | JobStoreCapabilities.IdempotencyKeys | JobStoreCapabilities.InjectedClock | JobStoreCapabilities.JobStatus | JobStoreCapabilities.Pause
        | JobStoreCapabilities.Priorities | JobStoreCapabilities.ExpiringLeases;

    public IJobConsumer OpenConsumer(string queue)
    {
        var state = GetQueue(queue);
        return new LeasedJobConsumer(state.Ready, state.AddWaiting, state.Wake, StillHolds);
    }

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

        // Hand back what was leased for this process's workers and never started: no attempt spent. Rescued jobs the
        // dispatcher did not settle stay leased as they were (attempt and start unchanged) and are rescued again.
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
                    Forget(lease, job);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
                {
                    // Not lost: the lease expires and a sweeper rescues the job.
                }
            }

            queue.Ready.Writer.TryComplete(new ObjectDisposedException(nameof(PostgreSqlJobStore), "The PostgreSQL job store is closed."));
        }

        _rescued.Writer.TryComplete(new ObjectDisposedException(nameof(PostgreSqlJobStore), "The PostgreSQL job store is closed."));

        PostgreSqlLog.Closed(_logger, released);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        if (_listenSource is not null)
        {
            await _listenSource.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _metrics.Dispose();
    }

    /// <summary>
    /// Whether a leased job still belongs to this process: one that waited untaken while its lease was lost (another
    /// process rescued it) must not start here too.
    /// </summary>
    internal bool StillHolds(JobRecord job) =>
        _held.TryGetValue(((PostgreSqlLease)job.StoreData!).Seq, out var held) && ReferenceEquals(held, job);

    /// <summary>Starts holding a leased job: the heartbeat extends its lease from now on.</summary>
    private void Hold(JobRecord record, PostgreSqlLease lease, long expires)
    {
        SetExpiry(record, lease, expires);
        _held[lease.Seq] = record;
    }

    /// <summary>Records the expiry this process wrote for a lease, on the lease and on the record the dispatcher checks.</summary>
    private static void SetExpiry(JobRecord record, PostgreSqlLease lease, long expires)
    {
        lease.Expires = expires;
        record.LeaseExpiresAt = FromTicks(expires);
    }

    /// <summary>Stops holding a job (settled, or its lease lost): no more heartbeats, and an isolated job's hold ends.</summary>
    private void Forget(PostgreSqlLease lease, JobRecord job)
    {
        _held.TryRemove(new KeyValuePair<long, JobRecord>(lease.Seq, job));
        ReleaseIsolated(lease);
    }

    private void Open()
    {
        var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString);
        var server = $"{builder.Host}:{builder.Port} (database '{builder.Database ?? builder.Username}', user '{builder.Username}')";
        try
        {
            using var connection = _dataSource.OpenConnection();

            // The constructor runs once, at start, on the host's thread: the schema work here is the start.
            if (_options.MigrateOnStart)
            {
                PostgreSqlSchema.Migrate(connection, _options.Schema);
            }
            else
            {
                PostgreSqlSchema.Check(connection, _options.Schema);
                if (_queueList.FirstOrDefault(q => SharedLimit(q) is not null) is { } limited && !PostgreSqlSchema.HasRateWindows(connection, _options.Schema))
                {
                    throw new InvalidOperationException(
                        $"Queue '{limited.Name}' has a QueueOptions.RateLimit, which the PostgreSQL job store counts in the table {_options.Schema}.rate_windows, and the schema has no such table while PostgreSqlStoreOptions.MigrateOnStart is false. Run PostgreSqlJobStoreSchema.MigrateAsync(connectionString, \"{_options.Schema}\") again (it adds the table), or set MigrateOnStart to true.");
                }
            }

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
