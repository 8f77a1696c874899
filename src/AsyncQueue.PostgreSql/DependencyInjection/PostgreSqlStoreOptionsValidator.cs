using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AsyncQueue.PostgreSql.DependencyInjection;

/// <summary>Checks the PostgreSQL store's options when they are first read, naming the property at fault.</summary>
internal sealed partial class PostgreSqlStoreOptionsValidator : IValidateOptions<PostgreSqlStoreOptions>
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, PostgreSqlStoreOptions options)
    {
        var failures = new List<string>();
        ValidateConnectionString(options.ConnectionString, failures);
        if (!IsSchemaName(options.Schema))
        {
            failures.Add($"PostgreSqlStoreOptions.Schema must be a lower-case identifier (letters, digits, underscores, at most 63 characters, not starting with a digit), but was '{options.Schema}'.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1))
        {
            failures.Add($"PostgreSqlStoreOptions.LeaseDuration must be at least 1 second, but was {options.LeaseDuration}.");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval * 2 >= options.LeaseDuration)
        {
            failures.Add($"PostgreSqlStoreOptions.HeartbeatInterval must be more than zero and less than half of LeaseDuration ({options.LeaseDuration}), but was {options.HeartbeatInterval}.");
        }

        CheckInterval(nameof(PostgreSqlStoreOptions.PollInterval), options.PollInterval, failures);
        CheckInterval(nameof(PostgreSqlStoreOptions.SweepInterval), options.SweepInterval, failures);
        if (options.FetchBatchSize is < 1 or > 10_000)
        {
            failures.Add($"PostgreSqlStoreOptions.FetchBatchSize must be between 1 and 10000, but was {options.FetchBatchSize}.");
        }

        if (options.LeaseAhead is < 0 or > 10_000)
        {
            failures.Add($"PostgreSqlStoreOptions.LeaseAhead must be between 0 and 10000, but was {options.LeaseAhead}.");
        }

        if (options.MaxRetainedKeys < 0)
        {
            failures.Add($"PostgreSqlStoreOptions.MaxRetainedKeys must not be negative, but was {options.MaxRetainedKeys}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckInterval(string property, TimeSpan value, List<string> failures)
    {
        if (value < MinInterval || value > MaxInterval)
        {
            failures.Add($"PostgreSqlStoreOptions.{property} must be between {MinInterval} and {MaxInterval}, but was {value}.");
        }
    }

    private static void ValidateConnectionString(string connectionString, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            failures.Add("PostgreSqlStoreOptions.ConnectionString must name a PostgreSQL server, for example \"Host=localhost;Database=app;Username=app;Password=...\", but was empty.");
            return;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                failures.Add("PostgreSqlStoreOptions.ConnectionString must set Host, for example \"Host=localhost;Database=app;Username=app;Password=...\".");
            }
        }
        catch (ArgumentException ex)
        {
            failures.Add($"PostgreSqlStoreOptions.ConnectionString is not a valid Npgsql connection string: {ex.Message}");
        }
    }

    /// <summary>Whether a schema name is one the store's statements can embed unquoted.</summary>
    internal static bool IsSchemaName(string? schema) => schema is not null && SchemaName().IsMatch(schema);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();
}
