namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>The operations suite (status, cancel, pause, priorities, idle) on a fresh database file per test; every process of a test opens the same file.</summary>
public sealed class SqliteJobQueueOperationsConformanceTests : DurableJobQueueOperationsConformanceTests
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    private readonly TempDatabase _database = new();

    protected override TimeSpan HeartbeatStep => Heartbeat;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }

    protected override void ConfigureStore(IJobQueueBuilder builder) => builder.UseSqlite(_database.ConnectionString, options => options.HeartbeatInterval = Heartbeat);
}
