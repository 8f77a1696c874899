using Microsoft.Data.Sqlite;

namespace AsyncQueue.Recurring.Tests.Scheduling;

/// <summary>The recurring conformance test on one SQLite file shared by two job queues.</summary>
public sealed class SqliteRecurringConformanceTests : RecurringConformanceTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-recurring-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    protected override void ConfigureStore(IJobQueueBuilder builder) => builder.UseSqlite($"Data Source={Path.Combine(_folder, "jobs.db")}");
}
