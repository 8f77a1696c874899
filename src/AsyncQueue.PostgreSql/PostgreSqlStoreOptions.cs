using System.Text.Json;

namespace AsyncQueue.PostgreSql;

/// <summary>Settings of the PostgreSQL job store. Set them with <c>UsePostgreSql(connectionString, options => ...)</c>.</summary>
/// <remarks>Validated when the store starts; an invalid value fails the start with a message that names the property.</remarks>
public class PostgreSqlStoreOptions
{
    /// <summary>Gets or sets the Npgsql connection string, for example <c>Host=db;Database=app;Username=app;Password=...</c>.</summary>
    /// <value>Set by <c>UsePostgreSql</c>. It must name a host.</value>
    public string ConnectionString { get; set; } = "";

    /// <summary>Gets or sets the database schema that holds the store's tables; created at start if missing (see <see cref="MigrateOnStart"/>).</summary>
    /// <value>The default value is <c>asyncqueue</c>. A lower-case identifier: letters, digits and underscores, at most 63 characters.</value>
    public string Schema { get; set; } = "asyncqueue";

    /// <summary>
    /// Gets or sets whether the store creates its schema, or migrates it to this version, when it starts. When
    /// <see langword="false"/>, the schema must already be at this version: run
    /// <see cref="PostgreSqlJobStoreSchema.MigrateAsync"/> beforehand (a deployment step, a command-line tool), and the
    /// store only checks the version at start.
    /// </summary>
    /// <value>
    /// The default value is <see langword="true"/>: each process migrates at start, under an advisory lock, so processes
    /// may start at once. With <see langword="false"/>, a schema that is missing or at another version fails the start
    /// with a <see cref="PostgreSqlSchemaVersionException"/>, and the application's user needs no right to create tables.
    /// </value>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// Gets or sets whether jobs enqueued by other processes wake idle workers at once through LISTEN/NOTIFY. When
    /// <see langword="false"/>, the store opens no LISTEN connection and sends no notifications: workers find jobs
    /// enqueued by other processes, and by <see cref="IPostgreSqlJobQueue"/> transactions, when they poll every
    /// <see cref="PollInterval"/>.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    /// <remarks>
    /// Turn it off behind a connection pooler in transaction mode (PgBouncer <c>pool_mode = transaction</c>), where a
    /// LISTEN session is not kept and notifications cannot be relied on; lower <see cref="PollInterval"/> to bound the
    /// wait for such jobs. Jobs this process enqueues through the job queue, delayed jobs and retries wake its own
    /// workers either way.
    /// </remarks>
    public bool UseListenNotify { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a fetched job stays leased to its attempt without a heartbeat. When a lease expires (the
    /// process crashed, was killed or stalled), the sweeper of a process on the same database takes it over and its
    /// dispatcher decides: a job whose start was not recorded runs again uncharged, isolated; one that crashed its
    /// process while isolated is charged the attempt, and runs again or is dead-lettered as its retry policy says.
    /// </summary>
    /// <value>The default value is 30 seconds. Range: 1 second or more, and more than twice <see cref="HeartbeatInterval"/>.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often the store extends the leases of the jobs this process is running.</summary>
    /// <value>The default value is 10 seconds. Range: more than zero, and less than half of <see cref="LeaseDuration"/>.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how often idle workers look for jobs when no notification came: the fallback for a lost
    /// LISTEN connection, and the only way to find jobs enqueued elsewhere when <see cref="UseListenNotify"/> is off.
    /// Jobs enqueued anywhere otherwise wake workers at once through LISTEN/NOTIFY, and delayed jobs and retries are
    /// fetched when they fall due.
    /// </summary>
    /// <value>The default value is 1 second. Range: 10 milliseconds to 1 hour.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how often the sweeper rescues expired leases and evicts expired idempotency keys, finished jobs'
    /// statuses and dead letters. A busy queue is also swept whenever it has kept half its status capacity since the last
    /// sweep, so its finished rows stay near the capacity between ticks.
    /// </summary>
    /// <value>The default value is 5 seconds. Range: 10 milliseconds to 1 hour.</value>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the most jobs of one queue leased by one query. The store leases only as many as its workers are about to take.</summary>
    /// <value>The default value is 256. Range: 1 to 10,000.</value>
    public int FetchBatchSize { get; set; } = 256;

    /// <summary>
    /// Gets or sets the most jobs of a queue this process may keep leased beyond what its waiting workers ask for, so a
    /// worker that finishes a job finds the next one already leased instead of waiting for a round trip to the server.
    /// Within this bound the store leases ahead twice what its workers settled since its previous lease: about what they
    /// take while the next lease is on its way, so slow jobs are not hoarded from other processes and a more urgent job
    /// enqueued later waits behind few.
    /// </summary>
    /// <value>
    /// The default value is 256. Range: 0 to 10,000, and at most <see cref="FetchBatchSize"/> is leased by one query.
    /// 0 leases only for workers that wait or are settling a job.
    /// </value>
    /// <remarks>
    /// With few workers on a busy queue each job otherwise costs a lease round trip, so throughput is bounded by the
    /// round-trip (and commit) latency: at 0, two workers ran about 600 jobs/s on a server with durable commits
    /// (docs/benchmarks.md). No delivery guarantee is traded: a job leased ahead has spent no attempt. The cost is on a
    /// crash: if this process dies or is killed, the jobs it leased ahead wait until their leases expire and are
    /// rescued (uncharged, but each then runs isolated, one at a time per process, as a suspect of the crash), and
    /// meanwhile other processes cannot take them. A process that stops normally hands them back with no attempt spent.
    /// Set 0 where many processes share a queue of slow jobs and each should take only what its workers run.
    /// </remarks>
    public int LeaseAhead { get; set; } = 256;

    /// <summary>
    /// Gets or sets whether a worker goes on to its next job as soon as its completion is queued for the store's next
    /// group commit, instead of waiting for that commit, while its lease is sure to last at least half of
    /// <see cref="LeaseDuration"/> more.
    /// </summary>
    /// <value>
    /// The default value is <see langword="true"/>. With <see langword="false"/>, <c>CompleteAsync</c> returns once the
    /// completion committed.
    /// </value>
    /// <remarks>
    /// Each worker otherwise waits one commit round trip per job, so a queue's throughput is at most its
    /// <c>MaxConcurrency</c> divided by the commit latency. Delivery stays at least once and a crash loses nothing: a
    /// job whose completion had not committed when the process died runs again, as one that was still running would,
    /// and a normal stop commits every queued completion. What changes: when <c>CompleteAsync</c> returns, the job's
    /// row may still be there for a moment (its status still reads running); and a completion that fails (the server
    /// is unreachable) is logged by the store rather than reported to the dispatcher, and its job is rescued when its
    /// lease expires and runs again. A lease that may be close to expiry (heartbeats failing, the process stalled)
    /// still waits, so a late attempt learns that its outcome was discarded. While queued completions fall behind
    /// their commits, the store leases no more jobs until they catch up.
    /// </remarks>
    public bool AsynchronousCompletions { get; set; } = true;

    /// <summary>Gets or sets the most idempotency keys of succeeded jobs kept; past that the oldest are freed first.</summary>
    /// <value>The default value is 1,000,000. Range: 0 or more.</value>
    public int MaxRetainedKeys { get; set; } = 1_000_000;

    /// <summary>
    /// Gets or sets the System.Text.Json options that job payloads are written and read with. Payloads are read only
    /// into the type registered for their kind, never into a type the data names.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    public JsonSerializerOptions? SerializerOptions { get; set; }
}
