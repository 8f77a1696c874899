namespace AsyncQueue.Engine;

/// <summary>
/// The time from a field that a timer refreshes every 50 milliseconds, for a timestamp on the hot path that may be that
/// coarse (a finished job's <see cref="JobInfo.FinishedAt"/> in the in-memory store): even the coarse clock's read cost
/// more than the rest of recording the job. With any clock but the system's (a test's fake one) it reads that clock.
/// </summary>
internal sealed class CachedClock : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);

    private readonly TimeProvider _time;
    private readonly ITimer? _timer;
    private long _utcTicks;

    public CachedClock(TimeProvider time)
    {
        _time = time;
        if (ReferenceEquals(time, TimeProvider.System))
        {
            _utcTicks = time.GetUtcNow().UtcTicks;
            _timer = time.CreateTimer(static state => ((CachedClock)state!).Refresh(), this, Period, Period);
        }
    }

    /// <summary>Gets the time in UTC ticks, at most 50 milliseconds old with the system clock.</summary>
    public long UtcTicks => _timer is null ? _time.GetUtcNow().UtcTicks : Volatile.Read(ref _utcTicks);

    public void Dispose() => _timer?.Dispose();

    private void Refresh() => Volatile.Write(ref _utcTicks, _time.GetUtcNow().UtcTicks);
}
