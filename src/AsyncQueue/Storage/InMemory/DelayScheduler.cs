namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// Holds jobs that must not run before a given time (retries and delayed jobs) and releases each when it falls
/// due. One priority queue and one timer for all of them: a million delayed jobs cost memory, not threads or timers.
/// </summary>
/// <remarks>
/// A lock guards the priority queue: this is the slow path (a retry or a delayed enqueue), not the hot path, and the
/// lock is never held while a job is released to its queue, which may wake a worker.
/// </remarks>
internal sealed class DelayScheduler : IDisposable
{
    private readonly PriorityQueue<JobRecord, DateTimeOffset> _due = new();
    private readonly Action<JobRecord> _release;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _perQueue = new(StringComparer.Ordinal);
    private DateTimeOffset _armedFor = DateTimeOffset.MaxValue;

    public DelayScheduler(TimeProvider time, Action<JobRecord> release)
    {
        _time = time;
        _release = release;
        _timer = time.CreateTimer(static state => ((DelayScheduler)state!).ReleaseDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _due.Count;
            }
        }
    }

    /// <summary>Counts the jobs of one queue that wait for their time.</summary>
    public int CountFor(string queue)
    {
        lock (_gate)
        {
            return _perQueue.GetValueOrDefault(queue);
        }
    }

    /// <summary>Finds a job waiting for its time by id, by a scan: for status, not the hot path.</summary>
    public bool TryFind(JobId id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JobRecord? job, out DateTimeOffset runAt)
    {
        lock (_gate)
        {
            foreach (var (element, priority) in _due.UnorderedItems)
            {
                if (element.Id == id)
                {
                    job = element;
                    runAt = priority;
                    return true;
                }
            }
        }

        job = null;
        runAt = default;
        return false;
    }

    /// <summary>Takes a job waiting for its time out, by id (a cancel).</summary>
    public JobRecord? Remove(JobId id)
    {
        lock (_gate)
        {
            foreach (var (element, _) in _due.UnorderedItems)
            {
                if (element.Id == id && _due.Remove(element, out var removed, out _))
                {
                    _perQueue[removed.Queue]--;
                    return removed;
                }
            }
        }

        return null;
    }

    public void Schedule(JobRecord job, DateTimeOffset runAt)
    {
        lock (_gate)
        {
            _due.Enqueue(job, runAt);
            _perQueue[job.Queue] = _perQueue.GetValueOrDefault(job.Queue) + 1;
            if (runAt < _armedFor)
            {
                Arm(runAt);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    private void ReleaseDue()
    {
        List<JobRecord>? ready = null;
        lock (_gate)
        {
            var now = _time.GetUtcNow();

            // Strictly by the clock: a timer that fires early releases nothing early, it only re-arms.
            while (_due.TryPeek(out var job, out var runAt) && runAt <= now)
            {
                _due.Dequeue();
                _perQueue[job.Queue]--;
                (ready ??= []).Add(job);
            }

            _armedFor = DateTimeOffset.MaxValue;
            if (_due.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        if (ready is not null)
        {
            foreach (var job in ready)
            {
                _release(job);
            }
        }
    }

    private void Arm(DateTimeOffset runAt)
    {
        _armedFor = runAt;
        var delay = runAt - _time.GetUtcNow();
        _timer.Change(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}
