using AsyncQueue.Conformance;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>The shared contract of a durable store, on a fresh database file per test; every process of a test opens the same file.</summary>
public sealed class SqliteJobStoreConformanceTests : DurableJobStoreConformanceTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private readonly TempDatabase _database = new();

    /// <summary>Past the lease, and past the sweep that follows it.</summary>
    protected override TimeSpan LeaseExpiry => Lease + SweepInterval + TimeSpan.FromSeconds(1);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }

    protected override void ConfigureStore(IJobQueueBuilder builder) => builder.UseSqlite(_database.ConnectionString, options =>
    {
        options.LeaseDuration = Lease;
        options.SweepInterval = SweepInterval;

        // The suite plays a stalled process with a clock that stands still; its store would think its lease fresh and
        // go on without waiting for its completion, so the late outcome it must see refused would only be logged.
        options.AsynchronousCompletions = false;
    });
}
