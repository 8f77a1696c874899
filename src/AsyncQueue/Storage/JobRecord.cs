namespace AsyncQueue.Storage;

/// <summary>
/// A job as a store holds it: the job value with its kind, queue, attempt count, failures and lease. For store
/// implementations: stores create and update records and the dispatcher reads them; applications see a job through
/// <see cref="JobContext"/> and <see cref="DeadLetterEntry"/> instead.
/// </summary>
/// <remarks>
/// A record is kept small: the fields most jobs never set (idempotency key, delay, trace context, errors, store data)
/// live in a side object made only when one is set. The in-memory store hands out one reusable record per consumer
/// for a plain job (see <c>InMemoryConsumer</c>), so a store that keeps a record after the attempt keeps a copy.
/// </remarks>
public sealed class JobRecord
{
    private long _enqueuedAtTicks;
    private Extras? _extras;

    /// <summary>Initializes a new record.</summary>
    /// <param name="id">The job's id.</param>
    /// <param name="kind">The job's stable kind name.</param>
    /// <param name="queue">The queue the job runs on.</param>
    /// <param name="job">The job value, an instance of the type registered for <paramref name="kind"/>.</param>
    /// <param name="enqueuedAt">When the job was first enqueued.</param>
    public JobRecord(JobId id, string kind, string queue, object job, DateTimeOffset enqueuedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(job);
        Id = id;
        Kind = kind;
        Queue = queue;
        Job = job;
        _enqueuedAtTicks = enqueuedAt.UtcTicks;
    }

    /// <summary>A consumer's reusable record, filled by <see cref="Reuse"/> before each use.</summary>
    internal JobRecord()
    {
        Kind = Queue = string.Empty;
        Job = string.Empty;
        IsReused = true;
    }

    /// <summary>Gets the job's id.</summary>
    public JobId Id { get; private set; }

    /// <summary>Gets the job's stable kind name.</summary>
    public string Kind { get; private set; }

    /// <summary>Gets the queue the job runs on.</summary>
    public string Queue { get; private set; }

    /// <summary>Gets the job value.</summary>
    public object Job { get; private set; }

    /// <summary>Gets when the job was first enqueued, in UTC.</summary>
    public DateTimeOffset EnqueuedAt => new(_enqueuedAtTicks, TimeSpan.Zero);

    /// <summary>Gets <see cref="EnqueuedAt"/> in UTC ticks, without building (and range-checking) a <see cref="DateTimeOffset"/>.</summary>
    internal long EnqueuedAtTicks => _enqueuedAtTicks;

    /// <summary>Gets the idempotency key given at enqueue, or <see langword="null"/>.</summary>
    public string? IdempotencyKey
    {
        get => _extras?.IdempotencyKey;
        init => SetExtra(value, static (extras, key) => extras.IdempotencyKey = key);
    }

    /// <summary>Gets the most attempts this job may make (<see cref="EnqueueOptions.MaxAttempts"/>), or <see langword="null"/> for the retry policy's limit.</summary>
    public int? MaxAttempts
    {
        get => _extras?.MaxAttempts;
        init => SetExtra(value, static (extras, max) => extras.MaxAttempts = max);
    }

    /// <summary>Gets or sets the earliest time the job may start, or <see langword="null"/> for at once.</summary>
    public DateTimeOffset? NotBefore
    {
        get => _extras?.NotBefore;
        set => SetExtra(value, static (extras, notBefore) => extras.NotBefore = notBefore);
    }

    /// <summary>Gets how urgent the job is within its queue (<see cref="EnqueueOptions.Priority"/>); a store hands out the most urgent due job first.</summary>
    public JobPriority Priority
    {
        get => _extras?.Priority ?? JobPriority.Normal;
        init => SetExtra(value == JobPriority.Normal ? null : (JobPriority?)value, static (extras, priority) => extras.Priority = priority);
    }

    /// <summary>Gets or sets the result the handler reported (<see cref="JobContext.SetResult"/>); stores keep it with a succeeded job's status.</summary>
    public string? Result
    {
        get => _extras?.Result;
        set => SetExtra(value, static (extras, result) => extras.Result = result);
    }

    /// <summary>
    /// Gets a value indicating whether a cancellation of this job was requested (<see cref="RequestCancellation"/>):
    /// it must not start, and if it runs its handler's token is cancelled.
    /// </summary>
    public bool CancellationRequested => _extras is { } extras && Volatile.Read(ref extras.CancellationRequested);

    /// <summary>
    /// Gets the W3C <c>traceparent</c> of the enqueue, so the handler's span continues the producer's trace; stores persist it.</summary>
    public string? TraceParent
    {
        get => _extras?.TraceParent;
        init => SetExtra(value, static (extras, traceParent) => extras.TraceParent = traceParent);
    }

    /// <summary>Gets the W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>.</summary>
    public string? TraceState
    {
        get => _extras?.TraceState;
        init => SetExtra(value, static (extras, traceState) => extras.TraceState = traceState);
    }

    /// <summary>
    /// Gets the ids of the jobs this continuation waits for (<see cref="IJobQueue.ContinueWithAsync"/>, <see cref="IJobQueue.ContinueWhenAllAsync"/>),
    /// each once, or <see langword="null"/> for a job that waits for none. It becomes due when every one of them
    /// succeeded, and fails when any of them is dead-lettered or cancelled.
    /// </summary>
    public IReadOnlyList<JobId>? ParentIds
    {
        get => _extras?.ParentIds;
        init => SetExtra(value is { Count: > 0 } ? value : null, static (extras, parents) => extras.ParentIds = parents);
    }

    /// <summary>Gets what becomes of this continuation if its parent fails (<see cref="ContinuationOptions.OnParentFailure"/>); stores persist it.</summary>
    public ParentFailureAction OnParentFailure
    {
        get => _extras?.OnParentFailure ?? ParentFailureAction.Cancel;
        init => SetExtra(value == ParentFailureAction.Cancel ? null : (ParentFailureAction?)value, static (extras, action) => extras.OnParentFailure = action);
    }

    /// <summary>
    /// Gets or sets a value indicating whether this continuation was released because its parent was dead-lettered or
    /// cancelled. A store sets it on the job it hands out; the dispatcher then cancels or dead-letters the job as
    /// <see cref="OnParentFailure"/> says, without running it.
    /// </summary>
    public bool ParentFailed
    {
        get => _extras?.ParentFailed ?? false;
        set => SetExtra(value ? true : (bool?)null, static (extras, failed) => extras.ParentFailed = failed ?? false);
    }

    /// <summary>
    /// Gets or sets what the store that handed out this record attaches to it, such as its lease (attempt id, fencing
    /// token). The dispatcher never reads it; it hands the record back to the same store.
    /// </summary>
    public object? StoreData
    {
        get => _extras?.StoreData;
        set => SetExtra(value, static (extras, data) => extras.StoreData = data);
    }

    /// <summary>Gets or sets how many attempts have been started. A store increments it when it hands the job to a consumer.</summary>
    public int Attempt { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the job is a suspect of a crash: it was rescued from a lease that expired
    /// with no record of whether its attempt had started. A store with <see cref="JobStoreCapabilities.ExpiringLeases"/>
    /// persists it, hands out an isolated job only while it holds no other, and the dispatcher records its start
    /// (<see cref="IJobStore.MarkStartedAsync"/>) before its handler runs, so that a second crash is charged to it alone.
    /// </summary>
    public bool Isolated
    {
        get => _extras?.Isolated ?? false;
        set => SetExtra(value ? true : (bool?)null, static (extras, isolated) => extras.Isolated = isolated ?? false);
    }

    /// <summary>
    /// Gets or sets a value indicating whether the start of the attempt numbered <see cref="Attempt"/> was recorded
    /// (<see cref="IJobStore.MarkStartedAsync"/>). Set by a store on the jobs that <see cref="IJobStore.OpenExpiredLeaseConsumer"/>
    /// hands out: a crash is charged as a failed attempt only to a job whose start was recorded.
    /// </summary>
    public bool StartRecorded
    {
        get => _extras?.StartRecorded ?? false;
        set => SetExtra(value ? true : (bool?)null, static (extras, started) => extras.StartRecorded = started ?? false);
    }

    /// <summary>
    /// Gets or sets when the store's lease on this attempt expires at the latest, or <see langword="null"/> for a store
    /// without <see cref="JobStoreCapabilities.ExpiringLeases"/>. A durable store sets it when it leases the job and moves it on with each heartbeat (from any
    /// thread); the dispatcher does not start a job whose lease is about to expire.
    /// </summary>
    public DateTimeOffset? LeaseExpiresAt
    {
        get => _extras is { } extras && Volatile.Read(ref extras.LeaseExpiresTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        set => SetExtra(value, static (extras, expires) => Volatile.Write(ref extras.LeaseExpiresTicks, expires?.UtcTicks ?? 0));
    }

    /// <summary>
    /// Requests the cancellation of this fetched job, from any thread: a durable store calls it when its lease
    /// heartbeat finds that another process asked to cancel the job (<see cref="IJobStore.CancelAsync"/>). A job not
    /// started yet is not started; a running one has its handler's token cancelled.
    /// </summary>
    public void RequestCancellation()
    {
        // Write, full fence, read; the dispatcher's side does the same in the other order, so one of them calls back.
        var extras = _extras ??= new Extras();
        Volatile.Write(ref extras.CancellationRequested, true);
        Interlocked.MemoryBarrier();
        Volatile.Read(ref extras.OnCancellationRequested)?.Invoke(this);
    }

    /// <summary>
    /// Sets what <see cref="RequestCancellation"/> calls (the dispatcher's worker that runs this job), and calls it at
    /// once if a cancellation was requested already.
    /// </summary>
    internal void OnCancellationRequested(Action<JobRecord> callback)
    {
        var extras = _extras ??= new Extras();
        Volatile.Write(ref extras.OnCancellationRequested, callback);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref extras.CancellationRequested))
        {
            callback(this);
        }
    }

    /// <summary>Gets the failures of earlier attempts, oldest first.</summary>
    public IReadOnlyList<JobError> Errors => (IReadOnlyList<JobError>?)_extras?.Errors ?? [];

    /// <summary>The dispatcher's cached handler registration, so a job enqueued in process is not looked up by kind again.</summary>
    internal Engine.JobRegistration? Registration { get; set; }

    /// <summary>Gets a value indicating whether the dispatcher must check this job before starting it: it has a lease, or is isolated.</summary>
    /// <remarks>One null test on the hot path: a plain in-memory job has no side object.</remarks>
    internal bool HasLeaseOrIsolated => _extras is { } extras && (Volatile.Read(ref extras.LeaseExpiresTicks) != 0 || extras.Isolated);

    /// <summary>
    /// Gets or sets the number of the last attempt whose handler ended (returned, threw, or was abandoned), so that a
    /// context kept past its attempt cannot set a result (<see cref="JobContext.SetResult"/>).
    /// </summary>
    internal int EndedAttempt { get; set; }

    /// <summary>Gets a value indicating whether this is a consumer's reusable record, overwritten by its next fetch.</summary>
    internal bool IsReused { get; }

    /// <summary>Refills a reusable record with a plain job's first attempt: no side fields, no errors.</summary>
    internal void Reuse(JobId id, Engine.JobRegistration registration, string queue, object job, long enqueuedAtTicks)
    {
        // A reference field is written only when it changes: each such write into this long-lived record is a GC
        // write barrier, and skipping the unchanged ones made a no-op dispatch about 5% faster.
        Id = id;
        if (!ReferenceEquals(Registration, registration))
        {
            Kind = registration.Kind;
            Registration = registration;
        }

        if (!ReferenceEquals(Queue, queue))
        {
            Queue = queue;
        }

        Job = job;
        _enqueuedAtTicks = enqueuedAtTicks;
        _extras = null;
        Attempt = 1;
        EndedAttempt = 0;
    }

    /// <summary>A record a store may keep: this one, or a copy of a reusable one.</summary>
    internal JobRecord Keep()
    {
        if (!IsReused)
        {
            return this;
        }

        var kept = new JobRecord(Id, Kind, Queue, Job, EnqueuedAt) { Registration = Registration, Attempt = Attempt };
        if (_extras is { } extras)
        {
            kept._extras = new Extras
            {
                IdempotencyKey = extras.IdempotencyKey,
                MaxAttempts = extras.MaxAttempts,
                NotBefore = extras.NotBefore,
                TraceParent = extras.TraceParent,
                TraceState = extras.TraceState,
                StoreData = extras.StoreData,
                Priority = extras.Priority,
                Result = extras.Result,
                CancellationRequested = extras.CancellationRequested,
                Isolated = extras.Isolated,
                StartRecorded = extras.StartRecorded,
                ParentIds = extras.ParentIds,
                OnParentFailure = extras.OnParentFailure,
                ParentFailed = extras.ParentFailed,
                LeaseExpiresTicks = extras.LeaseExpiresTicks,
                Errors = extras.Errors is null ? null : [.. extras.Errors],
            };
        }

        return kept;
    }

    /// <summary>Records the failure of an attempt.</summary>
    /// <param name="error">The failure.</param>
    public void AddError(JobError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        ((_extras ??= new Extras()).Errors ??= []).Add(error);
    }

    /// <summary>Forgets the attempt count, as when a dead-lettered job is requeued to run afresh. Its errors stay, for the record.</summary>
    /// <remarks>
    /// The ended attempt is forgotten too: the requeued job's attempt 1 is a new one, and with the old attempt 1 marked
    /// ended its handler could not report a result (<see cref="JobContext.SetResult"/>).
    /// </remarks>
    public void ResetAttempts()
    {
        Attempt = 0;
        EndedAttempt = 0;
    }

    // Setting a field to its absent value never allocates the side object.
    private void SetExtra<T>(T value, Action<Extras, T> set)
    {
        if (_extras is not null || value is not null)
        {
            set(_extras ??= new Extras(), value);
        }
    }

    private sealed class Extras
    {
        public string? IdempotencyKey { get; set; }

        public int? MaxAttempts { get; set; }

        public DateTimeOffset? NotBefore { get; set; }

        public string? TraceParent { get; set; }

        public string? TraceState { get; set; }

        public object? StoreData { get; set; }

        public JobPriority? Priority { get; set; }

        public string? Result { get; set; }

        public List<JobError>? Errors { get; set; }

        public bool Isolated { get; set; }

        public bool StartRecorded { get; set; }

        public IReadOnlyList<JobId>? ParentIds { get; set; }

        public ParentFailureAction? OnParentFailure { get; set; }

        public bool ParentFailed { get; set; }

        // Ticks, not a DateTimeOffset?, so that a heartbeat's write from another thread is never read torn.
        public long LeaseExpiresTicks;

        public bool CancellationRequested;

        public Action<JobRecord>? OnCancellationRequested;
    }
}
