using System.Text.Json;

namespace AsyncQueue.Sqlite;

/// <summary>Settings of the SQLite job store. Set them with <c>UseSqlite(connectionString, options => ...)</c>.</summary>
/// <remarks>Validated when the store starts; an invalid value fails the start with a message that names the property.</remarks>
public class SqliteStoreOptions
{
    /// <summary>Gets or sets the connection string of the database file, for example <c>Data Source=jobs.db</c>.</summary>
    /// <value>Set by <c>UseSqlite</c>. It must name a file: an in-memory database is not durable.</value>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Gets or sets how long a fetched job stays leased to its attempt without a heartbeat. When a lease expires (the
    /// process crashed, was killed or stalled), the sweeper of a process on the same file that runs the job's queue takes
    /// it over, and its dispatcher decides: a job whose start was not recorded runs again without spending an attempt,
    /// alone among suspects, and a crash during such a run counts as a failed attempt.
    /// </summary>
    /// <value>The default value is 30 seconds. Range: 1 second or more, and more than twice <see cref="HeartbeatInterval"/>.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often the store extends the leases of the jobs this process is running.</summary>
    /// <value>The default value is 10 seconds. Range: more than zero, and less than half of <see cref="LeaseDuration"/>.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how often idle workers look for jobs enqueued by other processes. Jobs enqueued by this process wake
    /// a worker at once, and delayed jobs and retries are fetched when they fall due, without waiting for a poll.
    /// </summary>
    /// <value>The default value is 1 second. Range: 10 milliseconds to 1 hour.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how often the sweeper takes over expired leases and evicts expired idempotency keys and dead letters.</summary>
    /// <value>The default value is 5 seconds. Range: 10 milliseconds to 1 hour.</value>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the most jobs of one queue leased by one query. The store leases as many as its workers are about to take, plus up to <see cref="LeaseAhead"/> more while they are busy.</summary>
    /// <value>The default value is 256. Range: 1 to 10,000.</value>
    public int FetchBatchSize { get; set; } = 256;

    /// <summary>
    /// Gets or sets how many jobs of a busy queue this process may keep leased beyond what its waiting workers ask for,
    /// so that workers find their next job already leased and one write transaction leases a run of jobs.
    /// </summary>
    /// <value>
    /// The default value is 128. Range: 0 to 10,000 (0 leases only for workers that wait or are settling a job), and at
    /// most <see cref="FetchBatchSize"/> is leased by one query.
    /// </value>
    /// <remarks>
    /// The store leases ahead only while the queue's workers are busy (waiting for a job or settling one). The cost: if
    /// this process crashes or is killed, the jobs it leased ahead wait until their leases expire and are rescued
    /// (uncharged, but each then runs isolated, one at a time, as a suspect of the crash); a job of a higher priority
    /// enqueued meanwhile runs after the ones already leased; and a cancel of a job leased ahead is delivered to it
    /// rather than removing it from the queue. A pause, and a normal stop, hand them back with no attempt spent.
    /// </remarks>
    public int LeaseAhead { get; set; } = 128;

    /// <summary>
    /// Gets or sets a value indicating whether a worker goes on to its next job as soon as its completion is queued
    /// for the writer's next transaction, instead of waiting for that transaction to commit, while this process's
    /// lease on the job has at least half of <see cref="LeaseDuration"/> left.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    /// <remarks>
    /// The commit is as durable as any other (<see cref="Synchronous"/> is not lowered), and delivery stays at least
    /// once: a job whose completion had not committed when the process died runs again, as one still running would,
    /// and a normal stop commits every queued completion. Meanwhile the job counts as running, and a status read by id
    /// in this process waits for the queued completions. A completion that fails to commit is logged by the store
    /// rather than reported to the dispatcher, and its job is rescued when its lease expires. Set it to
    /// <see langword="false"/> to have each worker wait for its own commit (throughput is then at most the worker count
    /// divided by the commit latency).
    /// </remarks>
    public bool AsynchronousCompletions { get; set; } = true;

    /// <summary>Gets or sets the most idempotency keys of succeeded jobs kept; past that the oldest are freed first.</summary>
    /// <value>The default value is 1,000,000. Range: 0 or more.</value>
    public int MaxRetainedKeys { get; set; } = 1_000_000;

    /// <summary>Gets or sets how hard a commit is pushed to the disk.</summary>
    /// <value>The default value is <see cref="SqliteSynchronousMode.Normal"/>: survives a crash of the process, not a power cut.</value>
    public SqliteSynchronousMode Synchronous { get; set; } = SqliteSynchronousMode.Normal;

    /// <summary>
    /// Gets or sets the System.Text.Json options that job payloads are written and read with. Payloads are read only
    /// into the type registered for their kind, never into a type the data names.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    /// <remarks>
    /// Changing them after jobs were stored may make old payloads unreadable; such jobs are dead-lettered with the reason.
    /// Set a source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/> as the type info resolver for trimmed apps.
    /// </remarks>
    public JsonSerializerOptions? SerializerOptions { get; set; }
}
