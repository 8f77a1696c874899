namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// The delays the broker holds retries for. RabbitMQ has no per-message schedule (the delayed-message plugin is not in
/// Debian's package), and a queue's per-message TTL only expires messages at its head, so each delay gets its own queue
/// with one <c>x-message-ttl</c>. The core's backoff (with jitter) asks for any delay; rounding it up to a step of this
/// ladder keeps the queues few (eight per doubling) and never runs a job before its time, at most 12.5% late.
/// </summary>
internal static class DelayLadder
{
    /// <summary>The shortest delay worth a queue; a job due sooner goes straight back to its work queue.</summary>
    public const long MinimumMilliseconds = 16;

    /// <summary>The delay's queue TTL: the smallest <c>m * 2^k</c> milliseconds (m from 8 to 15) at or above it.</summary>
    /// <param name="delay">The delay the core asked for.</param>
    /// <returns>The TTL in milliseconds, or 0 when the job is due now (under <see cref="MinimumMilliseconds"/>).</returns>
    public static long RoundUp(TimeSpan delay)
    {
        var ms = (long)Math.Ceiling(delay.TotalMilliseconds);
        if (ms < MinimumMilliseconds)
        {
            return 0;
        }

        // Keep the top four bits (8..15), shifted down; round up when any lower bit was set.
        var shift = 63 - (int)long.LeadingZeroCount(ms) - 3;
        var top = ms >> shift;
        if (top << shift != ms)
        {
            top++;
        }

        return top << shift;
    }
}
