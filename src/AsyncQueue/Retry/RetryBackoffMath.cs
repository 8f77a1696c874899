namespace AsyncQueue.Retry;

/// <summary>Backoff arithmetic, kept pure so it can be tested on its own.</summary>
internal static class RetryBackoffMath
{
    /// <summary><paramref name="delay"/> × 2^(attempt − 1), capped at <paramref name="maxDelay"/>, without overflowing.</summary>
    public static TimeSpan Exponential(TimeSpan delay, TimeSpan maxDelay, int attempt)
    {
        // Past 2^62 the ticks overflow; any such delay is beyond every sensible cap anyway.
        if (attempt > 62)
        {
            return maxDelay;
        }

        var ticks = delay.Ticks * (double)(1L << (attempt - 1));
        return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
