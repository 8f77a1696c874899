namespace AsyncQueue.PostgreSql;

/// <summary>
/// The PostgreSQL job store's schema is not at the version this package needs: it is missing or older while
/// <see cref="PostgreSqlStoreOptions.MigrateOnStart"/> is off (run <see cref="PostgreSqlJobStoreSchema.MigrateAsync"/>
/// first), or it was created by a newer version of the package.
/// </summary>
public sealed class PostgreSqlSchemaVersionException : InvalidOperationException
{
    /// <summary>Initializes a new instance.</summary>
    public PostgreSqlSchemaVersionException()
        : base("The PostgreSQL job store's schema is not at the version this package needs.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What is wrong and what to do.</param>
    public PostgreSqlSchemaVersionException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception behind it.</summary>
    /// <param name="message">What is wrong and what to do.</param>
    /// <param name="innerException">The exception behind it.</param>
    public PostgreSqlSchemaVersionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance for one schema.</summary>
    /// <param name="schema">The schema.</param>
    /// <param name="foundVersion">The version found; 0 when the schema or its tables do not exist.</param>
    /// <param name="requiredVersion">The version this package needs.</param>
    /// <param name="message">What is wrong and what to do.</param>
    public PostgreSqlSchemaVersionException(string schema, int foundVersion, int requiredVersion, string message)
        : base(message)
    {
        Schema = schema;
        FoundVersion = foundVersion;
        RequiredVersion = requiredVersion;
    }

    /// <summary>Gets the schema, or <see langword="null"/> when not given.</summary>
    public string? Schema { get; }

    /// <summary>Gets the version found: 0 when the schema or its tables do not exist.</summary>
    public int FoundVersion { get; }

    /// <summary>Gets the version this package needs.</summary>
    public int RequiredVersion { get; }
}
