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
