using AsyncQueue.Conformance;
using AsyncQueue.Sqlite.Storage;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>A database the store cannot use fails the start, with a message that says what is wrong and what to do.</summary>
public sealed class OpenFailureTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Start_FileIsNotSqlite_FailsWithClearMessage()
    {
        await File.WriteAllTextAsync(_database.FilePath, string.Concat(Enumerable.Repeat("these are my notes, not a database. ", 200)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(_database.ConnectionString));

        Assert.Contains($"cannot use '{_database.FilePath}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("the file is not a SQLite database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ReadOnlyConnectionString_FailsNamingTheSetting()
    {
        await using (BareStore.Open(_database, TimeProvider.System))
        {
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(_database.ConnectionString + ";Mode=ReadOnly"));

        Assert.Contains("SqliteStoreOptions.ConnectionString opens", error.Message, StringComparison.Ordinal);
        Assert.Contains("read-only (Mode=ReadOnly)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_DatabaseSQLiteCannotWrite_FailsWithClearMessage()
    {
        await using (BareStore.Open(_database, TimeProvider.System))
        {
        }

        // What SQLite reports for a file or folder the process may not write (which this test, run as root, cannot
        // arrange through permissions): SQLITE_READONLY on the first write.
        var error = Assert.Throws<InvalidOperationException>(() => SqliteSchema.Open(_database.ConnectionString + ";Mode=ReadOnly;Pooling=False", SqliteSynchronousMode.Normal, createSchema: true));

        Assert.Contains("the database is read-only", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs write access to the file and to its directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InMemoryDatabase_FailsBecauseNotDurable()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync("Data Source=:memory:"));

        Assert.Contains("names an in-memory database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidOptions_FailsNamingEachProperty()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(_database.ConnectionString, options =>
        {
            options.LeaseDuration = TimeSpan.FromSeconds(10);
            options.HeartbeatInterval = TimeSpan.FromSeconds(5);
            options.FetchBatchSize = 0;
        }));

        Assert.Contains("SqliteStoreOptions.HeartbeatInterval must be more than zero and less than half of LeaseDuration", error.Message, StringComparison.Ordinal);
        Assert.Contains("SqliteStoreOptions.FetchBatchSize must be between 1 and 10000, but was 0.", error.Message, StringComparison.Ordinal);
    }

    private static async Task StartAsync(string connectionString, Action<SqliteStoreOptions>? configure = null)
    {
        await using var host = await JobQueueTestHost.StartAsync((_, queue) =>
            queue.AddHandler<SqliteTestJob, SqliteTestJobHandler>(BareStore.Queue, _ => { }).UseSqlite(connectionString, configure));
    }
}
