namespace AsyncQueue.RateLimiting;

/// <summary>
/// A limit on how many jobs of a queue start per period: set it as <see cref="QueueOptions.RateLimit"/>. A job over the
/// limit waits for the next window; the limiter never fails, drops or delays it into a retry.
/// </summary>
/// <remarks>
/// <para>
/// The limit counts starts in fixed windows of <see cref="Period"/>: at most <see cref="Permits"/> jobs start in each.
/// With the in-memory store (and any store without <c>JobStoreCapabilities.SharedRateLimits</c>) the limit holds in
/// this process; a store that declares that capability (SQLite, so far) counts each window's leases in the database,
/// so the limit holds across every process sharing it. See docs/operations.md, "Rate limits".
/// </para>
/// <para>
/// With a <see cref="Key"/>, each key has its own limit (for example per customer) and the queue as a whole has none.
/// Per-key limits are counted in each process, on every store.
/// </para>
/// </remarks>
public sealed class JobRateLimit
{
    /// <summary>Initializes a new instance of the <see cref="JobRateLimit"/> class.</summary>
    /// <param name="permits">How many jobs may start per <paramref name="period"/>. Range: 1 or more.</param>
    /// <param name="period">The length of a window. Range: at least one millisecond.</param>
    public JobRateLimit(int permits, TimeSpan period)
    {
        Permits = permits;
        Period = period;
    }

    /// <summary>Gets how many jobs may start per <see cref="Period"/>.</summary>
    /// <value>Set by the constructor. Range: 1 or more; checked when the queue starts.</value>
    public int Permits { get; }

    /// <summary>Gets the length of one window.</summary>
    /// <value>Set by the constructor. Range: at least one millisecond; checked when the queue starts.</value>
    public TimeSpan Period { get; }

    /// <summary>
    /// Gets the selector of a job's key (it is given the job, as enqueued): each key has its own limit. A job whose key
    /// is <see langword="null"/> is not limited.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: one limit for the whole queue.</value>
    public Func<object, string?>? Key { get; init; }

    /// <summary>Creates a limit of <paramref name="permits"/> job starts per second.</summary>
    /// <param name="permits">How many jobs may start per second. Range: 1 or more.</param>
    /// <returns>The limit.</returns>
    public static JobRateLimit PerSecond(int permits) => new(permits, TimeSpan.FromSeconds(1));

    /// <summary>Creates a limit of <paramref name="permits"/> job starts per minute.</summary>
    /// <param name="permits">How many jobs may start per minute. Range: 1 or more.</param>
    /// <returns>The limit.</returns>
    public static JobRateLimit PerMinute(int permits) => new(permits, TimeSpan.FromMinutes(1));

    /// <summary>
    /// Gets the index of the window that holds <paramref name="now"/>: windows are counted from the Unix epoch, so every
    /// process sharing a store agrees on them. For store implementations that count windows.
    /// </summary>
    /// <param name="now">The time.</param>
    /// <returns>The window's index; it starts at <c>index × Period</c> after the epoch.</returns>
    public long WindowOf(DateTimeOffset now) => (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / Period.Ticks;

    /// <summary>Gets when window <paramref name="window"/> starts. For store implementations that count windows.</summary>
    /// <param name="window">A window's index (see <see cref="WindowOf"/>).</param>
    /// <returns>The window's start.</returns>
    public DateTimeOffset WindowStart(long window) => DateTimeOffset.UnixEpoch.AddTicks(window * Period.Ticks);
}
