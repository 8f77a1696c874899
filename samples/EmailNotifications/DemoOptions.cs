namespace EmailNotifications;

/// <summary>How the sample runs.</summary>
/// <param name="PickupFolder">Where the <c>.eml</c> files are written; created if missing.</param>
/// <param name="Seed">Seeds the flaky transport and the retry jitter, so a run can be repeated exactly.</param>
/// <param name="FailureRate">The chance that a send fails transiently first, from 0 (a reliable transport) to 1.</param>
/// <param name="Verbose">Shows the queue's own log lines (failures with stack traces, scheduled retries, dead letters).</param>
public sealed record DemoOptions(string PickupFolder, int Seed = DemoOptions.DefaultSeed, double FailureRate = DemoOptions.DefaultFailureRate, bool Verbose = false)
{
    /// <summary>The seed used when none is given.</summary>
    public const int DefaultSeed = 42;

    /// <summary>The failure rate used when none is given.</summary>
    public const double DefaultFailureRate = 0.4;
}
