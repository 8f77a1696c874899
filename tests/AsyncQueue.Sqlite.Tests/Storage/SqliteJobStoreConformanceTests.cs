using AsyncQueue.Conformance;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>The shared store contract, on a fresh database file per test.</summary>
public sealed class SqliteJobStoreConformanceTests : JobStoreConformanceTests
{
    private readonly TempDatabase _database = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }

    protected override void ConfigureStore(IJobQueueBuilder builder) => builder.UseSqlite(_database.ConnectionString);
}
