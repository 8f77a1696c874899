using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Sqlite.DependencyInjection;

/// <summary>Checks the SQLite store's options when they are first read, naming the property at fault.</summary>
internal sealed class SqliteStoreOptionsValidator : IValidateOptions<SqliteStoreOptions>
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, SqliteStoreOptions options)
    {
        var failures = new List<string>();
        ValidateConnectionString(options.ConnectionString, failures);
        if (options.LeaseDuration < TimeSpan.FromSeconds(1))
        {
            failures.Add($"SqliteStoreOptions.LeaseDuration must be at least 1 second, but was {options.LeaseDuration}.");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval * 2 >= options.LeaseDuration)
        {
            failures.Add($"SqliteStoreOptions.HeartbeatInterval must be more than zero and less than half of LeaseDuration ({options.LeaseDuration}), but was {options.HeartbeatInterval}.");
        }

        CheckInterval(nameof(SqliteStoreOptions.PollInterval), options.PollInterval, failures);
        CheckInterval(nameof(SqliteStoreOptions.SweepInterval), options.SweepInterval, failures);
        if (options.FetchBatchSize is < 1 or > 10_000)
        {
            failures.Add($"SqliteStoreOptions.FetchBatchSize must be between 1 and 10000, but was {options.FetchBatchSize}.");
        }

        if (options.LeaseAhead is < 0 or > 10_000)
        {
            failures.Add($"SqliteStoreOptions.LeaseAhead must be between 0 and 10000, but was {options.LeaseAhead}.");
        }

        if (options.MaxRetainedKeys < 0)
        {
            failures.Add($"SqliteStoreOptions.MaxRetainedKeys must not be negative, but was {options.MaxRetainedKeys}.");
        }

        if (!Enum.IsDefined(options.Synchronous))
        {
            failures.Add($"SqliteStoreOptions.Synchronous has the undefined value {(int)options.Synchronous}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckInterval(string property, TimeSpan value, List<string> failures)
    {
        if (value < MinInterval || value > MaxInterval)
        {
            failures.Add($"SqliteStoreOptions.{property} must be between {MinInterval} and {MaxInterval}, but was {value}.");
        }
    }

    private static void ValidateConnectionString(string connectionString, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            failures.Add("SqliteStoreOptions.ConnectionString must name a database file, for example \"Data Source=jobs.db\", but was empty.");
            return;
        }

        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            failures.Add($"SqliteStoreOptions.ConnectionString is not a valid SQLite connection string: {ex.Message}");
            return;
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            failures.Add("SqliteStoreOptions.ConnectionString must set Data Source to a database file, for example \"Data Source=jobs.db\".");
        }
        else if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"SqliteStoreOptions.ConnectionString names an in-memory database ('{builder.DataSource}'), which is lost with the process; name a file, for example \"Data Source=jobs.db\".");
        }
        else if (builder.Mode == SqliteOpenMode.ReadOnly)
        {
            failures.Add($"SqliteStoreOptions.ConnectionString opens '{builder.DataSource}' read-only (Mode=ReadOnly); the job store writes to its database, so remove Mode=ReadOnly.");
        }
    }
}
