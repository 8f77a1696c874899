using System.Text.Json;

namespace AsyncQueue.Redis;

/// <summary>Settings of the Redis job store. Set them with <c>UseRedis("localhost:6379", options => ...)</c>.</summary>
/// <remarks>Validated when the store starts; an invalid value fails the start with a message that names the property.</remarks>
public class RedisStoreOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string: one or more <c>host:port</c> endpoints, then options
    /// such as <c>password=...</c>, <c>user=...</c> or <c>ssl=true</c>, for example <c>localhost:6379,password=secret</c>.
    /// </summary>
    /// <value>Set by <c>UseRedis</c>. It must name at least one endpoint.</value>
    public string Configuration { get; set; } = "";

    /// <summary>
    /// Gets or sets the prefix of every key the store writes, so that several applications share one server. A queue's
    /// keys are <c>{prefix:queue}:...</c>: one hash tag per queue, so that in Redis Cluster a queue lives in one slot.
    /// </summary>
    /// <value>The default value is <c>asyncqueue</c>. It must not be empty, nor contain <c>{</c>, <c>}</c> or whitespace.</value>
    public string KeyPrefix { get; set; } = "asyncqueue";

    /// <summary>
    /// Gets or sets how long a fetched job stays leased to its attempt without a heartbeat. When a lease expires (the
    /// process crashed, was killed or stalled), the sweeper of a process that runs the job's queue takes it over and its
    /// dispatcher decides its fate.
    /// </summary>
    /// <value>The default value is 30 seconds. Range: 1 second or more, and more than twice <see cref="HeartbeatInterval"/>.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often the store extends the leases of the jobs this process holds, and learns which of them had a cancel requested.</summary>
    /// <value>The default value is 10 seconds. Range: more than zero, and less than half of <see cref="LeaseDuration"/>.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how often idle workers look for jobs when no wake-up came. Enqueues, resumes and retries publish a
    /// wake-up on the queue's channel, and delayed jobs are fetched when they fall due, so the poll only covers a lost
    /// wake-up (a reconnection, say).
    /// </summary>
    /// <value>The default value is 5 seconds. Range: 10 milliseconds to 1 hour.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often the sweeper takes over expired leases and evicts expired idempotency keys, finished statuses and dead letters.</summary>
    /// <value>The default value is 5 seconds. Range: 10 milliseconds to 1 hour.</value>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the most jobs of one queue leased by one script call. The store leases only as many as its workers are about to take.</summary>
    /// <value>The default value is 256. Range: 1 to 10,000.</value>
    public int FetchBatchSize { get; set; } = 256;

    /// <summary>
    /// Gets or sets the most jobs of a queue this process may keep leased beyond what its waiting workers ask for, so a
    /// worker that finishes a job finds the next one already leased instead of waiting for a round trip to Redis.
    /// Within this bound the store leases ahead twice what its workers completed since its previous lease (about what
    /// they take while the next lease is on its way), topped up once half of that is taken, so slow jobs are not hoarded
    /// from other processes and a more urgent job enqueued later waits behind few.
    /// </summary>
    /// <value>
    /// The default value is 256. Range: 0 to 10,000; at most <see cref="FetchBatchSize"/> is leased by one script call.
    /// 0 leases only for workers that are waiting for a job.
    /// </value>
    /// <remarks>
    /// With few workers on a busy queue each job otherwise costs a lease round trip, so throughput is bounded by the
    /// round-trip latency. No delivery guarantee is traded: a job leased ahead has spent no attempt. The cost is on a
    /// crash: if this process crashes or is killed, the jobs it leased ahead wait until their leases expire, and other
    /// processes cannot take them meanwhile; they are then handed back with no attempt spent, but as suspects that run
    /// one at a time per process until an attempt of each ends (docs/delivery.md). A process that stops normally, or a
    /// pause, hands them back at once, with no attempt spent. Jobs leased ahead count as waiting (<c>CountAsync</c>) and
    /// read as waiting (<c>GetJobAsync</c>) in the process that leased them; every other process reads them as running.
    /// Set 0 where many processes share a queue of slow jobs and each should take only what its workers run.
    /// A queue with a queue-wide rate limit (<see cref="QueueOptions.RateLimit"/> without a key) is not leased ahead: its
    /// window's permits go to workers about to start the jobs, in whichever process.
    /// </remarks>
    public int LeaseAhead { get; set; } = 256;

    /// <summary>
    /// Gets or sets whether a worker goes on to its next job as soon as its completion is queued for the store's next
    /// batched completion script, instead of waiting for Redis to record it, while its lease is sure to last at least
    /// half of <see cref="LeaseDuration"/> more.
    /// </summary>
    /// <value>
    /// The default value is <see langword="true"/>. With <see langword="false"/>, <c>CompleteAsync</c> returns once
    /// Redis recorded the completion. Either way completions are recorded in batches, one script call for every
    /// completion queued meanwhile.
    /// </value>
    /// <remarks>
    /// Each worker otherwise waits one round trip per job, so a queue's throughput is at most its <c>MaxConcurrency</c>
    /// divided by the round-trip latency. Delivery stays at least once: a job whose completion was not recorded when the
    /// process died runs again, as one that was still running would, and a normal stop records every queued completion.
    /// While more than 2,000 completions wait to be recorded, the store leases no more jobs, so a busy server bounds
    /// what a crash runs again. What changes: when <c>CompleteAsync</c> returns the job may still be leased in Redis for
    /// a moment, so another process may read it as running; in this process a status read or a count first waits for
    /// the queued completions to be recorded. A completion that fails (Redis unreachable) is logged by the store rather
    /// than reported to the dispatcher, and its job is rescued when its lease expires. A lease that may be close to
    /// expiry (heartbeats failing, the process stalled) still waits, so a late attempt learns that its outcome was
    /// discarded.
    /// </remarks>
    public bool AsynchronousCompletions { get; set; } = true;

    /// <summary>Gets or sets how long the store waits for the server at start before it fails the start.</summary>
    /// <value>The default value is 5 seconds. Range: 100 milliseconds to 5 minutes.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the System.Text.Json options that job payloads are written and read with. Payloads are read only
    /// into the type registered for their kind, never into a type the data names.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="JsonSerializerOptions.Default"/>.</value>
    /// <remarks>Changing them after jobs were stored may make old payloads unreadable; such jobs are dead-lettered with the reason.</remarks>
    public JsonSerializerOptions? SerializerOptions { get; set; }
}
