namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>
/// The durable store contract, under a fresh key prefix per test on the shared throwaway server; every process a test
/// starts (<see cref="DurableJobStoreConformanceTests.StartProcess"/>, a restart) uses the same prefix.
/// </summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisJobStoreConformanceTests(RedisServer server) : DurableJobStoreConformanceTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private readonly string _prefix = RedisServer.NewPrefix();

    /// <summary>Past the lease, and past the sweep that follows it.</summary>
    protected override TimeSpan LeaseExpiry => LeaseDuration + SweepInterval + TimeSpan.FromSeconds(1);

    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UseRedis(server.Configuration, options =>
        {
            options.KeyPrefix = _prefix;
            options.LeaseDuration = LeaseDuration;
            options.HeartbeatInterval = TimeSpan.FromSeconds(10);
            options.SweepInterval = SweepInterval;

            // The suite plays a stalled process with a clock that stands still; its store would think its lease fresh and
            // go on without waiting for its completion, so the late outcome it must see refused would only be logged. The
            // default, queued completions, is the opt-in the contract allows (docs/delivery.md); the operations suite,
            // the multi-process tests and LeaseAheadTests run it. LeaseAhead keeps its default here.
            options.AsynchronousCompletions = false;
        });
}
