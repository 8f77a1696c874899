namespace AsyncQueue.Engine;

/// <summary>
/// Reads the time per job where a few milliseconds do not matter (a job's enqueue time, an idempotency key's expiry).
/// On the system clock it reads the operating system's coarse clock (<see cref="Environment.TickCount64"/>) from a
/// precise anchor taken once a second.
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

    private sealed record Anchor(long UtcTicks, long TickCount)
    {
        public static Anchor Now(TimeProvider time) => new(time.GetUtcNow().UtcTicks, Environment.TickCount64);
    }
}
