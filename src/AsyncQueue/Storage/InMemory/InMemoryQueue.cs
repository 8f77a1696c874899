using System.Collections.Concurrent;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// One named queue of the in-memory store: a lock-free multi-producer, multi-consumer queue with parked
/// consumers woken without a lock, and an optional capacity.
/// </summary>
/// <remarks>
/// <para>
/// Why no lock is needed: jobs live in a <see cref="ConcurrentQueue{T}"/>, whose enqueue and dequeue are a
/// compare-and-swap on its segment's tail or head. The only other shared state is <see cref="_parked"/>, the
/// number of consumers that found the queue empty and are waiting, and each consumer's own state word.
/// </para>
/// <para>
/// The one race that matters is the lost wake-up: a consumer sees an empty queue and parks while a producer
/// adds a job and sees no parked consumer. It cannot happen because each side writes, then fences, then reads
/// what the other wrote (Dekker's pattern): the producer's enqueue is an interlocked operation on the tail and is
/// followed by a read of <see cref="_parked"/>; a parking consumer increments <see cref="_parked"/> (interlocked,
/// a full fence) and then checks the queue again. At least one of them sees the other's write, so either the
/// producer wakes a consumer or the consumer unparks itself.
/// </para>
/// <para>
/// Priorities cost nothing until used: normal jobs wait in one queue, and the other priorities' queues are made when
/// the first job of another priority arrives; only then does a take look at more than one queue (most urgent first).
/// A pause is one flag that a take reads: a paused queue takes nothing, and its resume wakes every parked consumer.
/// </para>
/// </remarks>
internal sealed class InMemoryQueue
{
    private readonly ConcurrentQueue<ReadyJob> _ready = new();
    private readonly BoundedRoom? _room;
    private readonly Lock _prioritiesGate = new();

    // Indexed by JobPriority; null until a job of a priority other than Normal arrives (Normal waits in _ready).
    private ConcurrentQueue<ReadyJob>?[]? _byPriority;
    private volatile bool _paused;
    private InMemoryConsumer[] _consumers = [];
    private int _parked;
    private int _wakeCursor;

    public InMemoryQueue(string name, QueueOptions options)
    {
        Name = name;
        Options = options;
        if (options.Capacity is int capacity)
        {
            _room = new BoundedRoom(name, capacity, options.FullMode);
        }
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    public long Count
    {
        get
        {
            long count = _ready.Count;
            foreach (var queue in Volatile.Read(ref _byPriority) ?? [])
            {
                count += queue is null || ReferenceEquals(queue, _ready) ? 0 : queue.Count;
            }

            return count;
        }
    }

    public bool Paused => _paused;

    /// <summary>Pauses or resumes taking; a resume wakes every parked consumer, since any of them may now take a job.</summary>
    public void SetPaused(bool paused)
    {
        _paused = paused;
        if (!paused)
        {
            foreach (var consumer in Volatile.Read(ref _consumers))
            {
                consumer.TryWake();
            }
        }
    }

    /// <summary>Finds a waiting job by id, by a scan of the queue (a snapshot): for status and cancel, not the hot path.</summary>
    public bool TryFind(JobId id, out ReadyJob found)
    {
        foreach (var queue in Queues())
        {
            foreach (var job in queue)
            {
                if (job.Id == id)
                {
                    found = job;
                    return true;
                }
            }
        }

        found = default;
        return false;
    }

    /// <summary>Adds a new job, respecting the capacity.</summary>
    public ValueTask EnqueueAsync(ReadyJob job, CancellationToken cancellationToken)
    {
        if (_room is null)
        {
            Publish(job);
            return default;
        }

        if (_room.FullMode == QueueFullMode.Throw)
        {
            _room.ReserveOrThrow(1);
            Publish(job);
            return default;
        }

        return EnqueueWhenRoomAsync(job, cancellationToken);
    }

    /// <summary>Adds new jobs in order, respecting the capacity: all of them, or none.</summary>
    public async ValueTask EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        if (_room?.FullMode == QueueFullMode.Throw)
        {
            _room.ReserveOrThrow(jobs.Count);
        }
        else if (_room is not null)
        {
            await _room.WaitAndReserveAsync(jobs.Count, cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < jobs.Count; i++)
        {
            Publish(ReadyJob.Of(jobs[i]));
        }
    }

    /// <summary>Adds a job that was accepted earlier (a retry, or a delayed job falling due): capacity never refuses it.</summary>
    public void Requeue(JobRecord job)
    {
        _room?.Force(1);
        Publish(ReadyJob.Of(job));
    }

    /// <summary>Fails the producers waiting for room, when the queue stops: its workers will free none.</summary>
    public void Close() => _room?.Close();

    public bool TryTake(out ReadyJob job)
    {
        if (!_paused && (_byPriority is null ? _ready.TryDequeue(out job) : TryTakeMostUrgent(out job)))
        {
            _room?.Release();
            return true;
        }

        job = default;
        return false;
    }

    public InMemoryConsumer OpenConsumer()
    {
        var consumer = new InMemoryConsumer(this);

        // Copy-on-write so WakeOne can scan the array without a lock; consumers are opened only at start.
        while (true)
        {
            var current = Volatile.Read(ref _consumers);
            InMemoryConsumer[] next = [.. current, consumer];
            if (Interlocked.CompareExchange(ref _consumers, next, current) == current)
            {
                return consumer;
            }
        }
    }

    /// <summary>Called by a consumer after it set its own state to parked. Interlocked: a full fence before it re-checks the queue.</summary>
    internal void OnParked() => Interlocked.Increment(ref _parked);

    /// <summary>Called by whoever moved a consumer from parked to running (a producer, a canceller or the consumer itself).</summary>
    internal void OnUnparked() => Interlocked.Decrement(ref _parked);

    internal bool HasWaitingJobs => !_paused && (!_ready.IsEmpty || (_byPriority is { } byPriority && Array.Exists(byPriority, q => q is { IsEmpty: false })));

    private bool TryTakeMostUrgent(out ReadyJob job)
    {
        var byPriority = _byPriority!;
        for (var priority = byPriority.Length - 1; priority >= 0; priority--)
        {
            if (byPriority[priority]?.TryDequeue(out job) == true)
            {
                return true;
            }
        }

        job = default;
        return false;
    }

    private ConcurrentQueue<ReadyJob> QueueFor(JobPriority priority)
    {
        if (priority == JobPriority.Normal)
        {
            return _ready;
        }

        var byPriority = Volatile.Read(ref _byPriority);
        if (byPriority?[(int)priority] is { } queue)
        {
            return queue;
        }

        lock (_prioritiesGate)
        {
            // Copy-on-write, so a take reads the array without a lock.
            ConcurrentQueue<ReadyJob>?[] next = _byPriority is { } current ? [.. current] : new ConcurrentQueue<ReadyJob>?[(int)JobPriority.Urgent + 1];
            next[(int)JobPriority.Normal] = _ready;
            queue = next[(int)priority] ??= new ConcurrentQueue<ReadyJob>();
            Volatile.Write(ref _byPriority, next);
            return queue;
        }
    }

    private IEnumerable<ConcurrentQueue<ReadyJob>> Queues() =>
        Volatile.Read(ref _byPriority) is { } byPriority ? byPriority.OfType<ConcurrentQueue<ReadyJob>>() : [_ready];

    private async ValueTask EnqueueWhenRoomAsync(ReadyJob job, CancellationToken cancellationToken)
    {
        await _room!.WaitAndReserveAsync(1, cancellationToken).ConfigureAwait(false);
        Publish(job);
    }

    private void Publish(ReadyJob job)
    {
        // A plain job is always normal; a record says its priority.
        (job.Registration is null ? QueueFor(((JobRecord)job.Value).Priority) : _ready).Enqueue(job);

        // The enqueue above was an interlocked write of the tail; this read cannot move before it.
        if (Volatile.Read(ref _parked) > 0)
        {
            WakeOne();
        }
    }

    private void WakeOne()
    {
        var consumers = Volatile.Read(ref _consumers);
        if (consumers.Length == 0)
        {
            return;
        }

        // Start at a rotating index so wake-ups spread over the consumers instead of always hitting the first.
        var start = (int)((uint)Interlocked.Increment(ref _wakeCursor) % (uint)consumers.Length);
        for (var i = 0; i < consumers.Length; i++)
        {
            var index = start + i;
            if (index >= consumers.Length)
            {
                index -= consumers.Length;
            }

            if (consumers[index].TryWake())
            {
                return;
            }
        }

        // None was parked any more: each consumer that unparked itself did so because it saw a job waiting.
    }
}
