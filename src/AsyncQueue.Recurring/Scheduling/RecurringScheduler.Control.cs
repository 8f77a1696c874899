namespace AsyncQueue.Recurring.Scheduling;

/// <summary>The scheduler as <see cref="IRecurringJobs"/>: listing and run-time changes, each waking the loop.</summary>
internal sealed partial class RecurringScheduler
{
    public IReadOnlyList<RecurringJobInfo> List()
    {
        lock (_gate)
        {
            return [.. _entries.Select(e => new RecurringJobInfo(e.Job.Name, e.Job.Cron, e.Job.TimeZone, e.Paused, e.Paused ? null : e.NextRun, e.LastRun))];
        }
    }

    public void SetPaused(string name, bool paused)
    {
        var now = _time.GetUtcNow();
        Change(name, entry =>
        {
            if (entry.Paused && !paused)
            {
                entry.Cursor = now;
            }

            entry.Paused = paused;
        });
    }

    public ValueTask<EnqueueResult> TriggerAsync(string name, CancellationToken cancellationToken = default)
    {
        RecurringJobDefinition job;
        lock (_gate)
        {
            job = Find(name).Job;
        }

        return job.EnqueueNowAsync(_queue, cancellationToken);
    }

    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            var index = _entries.FindIndex(e => e.Job.Name == name);
            if (index < 0)
            {
                return false;
            }

            _entries[index].Removed = true;
            _entries.RemoveAt(index);
        }

        Wake();
        return true;
    }

    private void Change(string name, Action<Entry> change)
    {
        lock (_gate)
        {
            change(Find(name));
        }

        Wake();
    }

    private Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _entries.Find(e => e.Job.Name == name) ?? throw new KeyNotFoundException($"No recurring job is named '{name}'.");
    }

    // Outside the lock: cancelling runs the waiting loop's continuation, which must never run under it.
    private void Wake()
    {
        CancellationTokenSource? wake;
        lock (_gate)
        {
            wake = _wake;
        }

        wake?.Cancel();
    }

    /// <summary>One recurring job's state in this process; every mutable field is guarded by the scheduler's lock.</summary>
    private sealed class Entry(RecurringJobDefinition job)
    {
        public RecurringJobDefinition Job { get; } = job;

        /// <summary>Ticks up to here (inclusive) were handled: enqueued, found enqueued, skipped.</summary>
        public DateTimeOffset Cursor { get; set; }

        public DateTimeOffset? NextRun { get; set; }

        public DateTimeOffset? LastRun { get; set; }

        public DateTimeOffset RetryAt { get; set; }

        public bool Paused { get; set; }

        public bool Removed { get; set; }
    }
}
