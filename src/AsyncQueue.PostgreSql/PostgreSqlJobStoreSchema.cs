using AsyncQueue.PostgreSql.DependencyInjection;
using AsyncQueue.PostgreSql.Storage;
using Npgsql;

namespace AsyncQueue.PostgreSql;

/// <summary>
/// Creates or migrates the PostgreSQL job store's schema on its own, without starting a store or any worker: for a
/// deployment step or a command-line tool, with <see cref="PostgreSqlStoreOptions.MigrateOnStart"/> off in the
/// application.
/// </summary>
public static class PostgreSqlJobStoreSchema
{
    /// <summary>
    /// Creates the schema and its tables, or migrates them to the version this package needs. Idempotent: a schema
    /// already at that version is left as it is. Safe when several processes run it at once (and with stores
    /// starting): it runs in one transaction under an advisory lock keyed by the schema name.
    /// </summary>
    /// <param name="connectionString">The Npgsql connection string; its user must be allowed to create the schema and its tables.</param>
    /// <param name="schema">The schema, as in <see cref="PostgreSqlStoreOptions.Schema"/>.</param>
    /// <param name="cancellationToken">Cancels the migration; its transaction then rolls back.</param>
    /// <returns>A task that completes when the migration committed.</returns>
    /// <exception cref="ArgumentException">The schema is not a lower-case identifier, or the connection string does not parse.</exception>
    /// <exception cref="PostgreSqlSchemaVersionException">The schema was created by a newer version of the package.</exception>
    /// <exception cref="NpgsqlException">The server cannot be reached, or refused a statement.</exception>
    public static async Task MigrateAsync(string connectionString, string schema = "asyncqueue", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ArgumentNullException.ThrowIfNull(schema);
        if (!PostgreSqlStoreOptionsValidator.IsSchemaName(schema))
        {
            throw new ArgumentException($"The schema must be a lower-case identifier (letters, digits, underscores, at most 63 characters, not starting with a digit), but was '{schema}'.", nameof(schema));
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await PostgreSqlSchema.MigrateAsync(connection, schema, cancellationToken).ConfigureAwait(false);
    }
}
