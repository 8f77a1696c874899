namespace AsyncQueue.Engine;

/// <summary>
/// Reads the time per job where a few milliseconds do not matter (a job's enqueue time, an idempotency key's expiry).
/// On the system clock it reads the operating system's coarse clock (<see cref="Environment.TickCount64"/>) from a
/// precise anchor taken once a second. It also turns a precise timestamp into UTC, so that the duration histograms
/// need one clock read where they need both a duration and a wall-clock time.
/// </summary>
/// <remarks>
/// Why: a precise clock read costs about 60 ns on a virtual machine (kvm-clock), as much as the rest of an in-memory
/// enqueue, and <see cref="JobContext.EnqueuedAt"/> needs no better than the coarse clock's tick (a few milliseconds).
/// A test's fake <see cref="TimeProvider"/> is always read as it is, so time stays under the test's control.
/// </remarks>
internal sealed class CoarseClock(TimeProvider time)
{
    private const long ReanchorAfterMilliseconds = 1000;

    private readonly bool _coarse = ReferenceEquals(time, TimeProvider.System);
    private readonly double _utcTicksPerTimestamp = (double)TimeSpan.TicksPerSecond / time.TimestampFrequency;
    private readonly long _reanchorAfterTimestamps = time.TimestampFrequency;
    private Anchor _anchor = Anchor.Now(time);

    /// <summary>Gets the current time to within the coarse clock's tick.</summary>
    public DateTimeOffset GetUtcNow() => new(UtcTicks(precise: false), TimeSpan.Zero);

    /// <summary>Gets the current time in UTC ticks; <paramref name="precise"/> asks for a precise read.</summary>
    public long UtcTicks(bool precise)
    {
        if (precise || !_coarse)
        {
            return time.GetUtcNow().UtcTicks;
        }

        var anchor = Volatile.Read(ref _anchor);
        var elapsed = Environment.TickCount64 - anchor.TickCount;
        if (elapsed is < 0 or >= ReanchorAfterMilliseconds)
        {
            // Once a second, so the wall clock's adjustments are followed. A race only anchors twice.
            anchor = Anchor.Now(time);
            Volatile.Write(ref _anchor, anchor);
            elapsed = 0;
        }

        return anchor.UtcTicks + (elapsed * TimeSpan.TicksPerMillisecond);
    }

    /// <summary>Gets a precise timestamp (<see cref="TimeProvider.GetTimestamp"/>), for durations and <see cref="UtcTicksAt"/>.</summary>
    public long GetTimestamp() => time.GetTimestamp();

    /// <summary>Gets the duration between two timestamps of <see cref="GetTimestamp"/>, in seconds.</summary>
    public double SecondsBetween(long startTimestamp, long endTimestamp) => (endTimestamp - startTimestamp) / (double)time.TimestampFrequency;

    /// <summary>
    /// Gets the UTC time, in ticks, of a <paramref name="timestamp"/> just read by <see cref="GetTimestamp"/>: on the
    /// system clock, from the anchor instead of a second precise read.
    /// </summary>
    public long UtcTicksAt(long timestamp)
    {
        if (!_coarse)
        {
            return time.GetUtcNow().UtcTicks;
        }

        var anchor = Volatile.Read(ref _anchor);
        var elapsed = timestamp - anchor.Timestamp;
        if (elapsed < 0 || elapsed >= _reanchorAfterTimestamps)
        {
            anchor = Anchor.Now(time);
            Volatile.Write(ref _anchor, anchor);
            elapsed = timestamp - anchor.Timestamp;
        }

        return anchor.UtcTicks + (long)(elapsed * _utcTicksPerTimestamp);
    }

    private sealed record Anchor(long UtcTicks, long TickCount, long Timestamp)
    {
        public static Anchor Now(TimeProvider time) => new(time.GetUtcNow().UtcTicks, Environment.TickCount64, time.GetTimestamp());
    }
}
