using System.Diagnostics.CodeAnalysis;
using AsyncQueue.Sqlite;
using AsyncQueue.Sqlite.DependencyInjection;
using AsyncQueue.Sqlite.Storage;
using AsyncQueue.Storage.Durable;

// UseSqlite() on IJobQueueBuilder sits beside AddJobQueue(), in the namespace applications already import.
#pragma warning disable IDE0130
namespace AsyncQueue;
#pragma warning restore IDE0130

/// <summary>Puts the job queue on SQLite: <c>services.AddJobQueue().UseSqlite("Data Source=jobs.db")</c>.</summary>
public static class SqliteJobQueueBuilderExtensions
{
    internal const string SerializationMessage =
        "Job payloads are serialized with System.Text.Json over the registered job types. In a trimmed or native AOT app, set SqliteStoreOptions.SerializerOptions with a source-generated JsonSerializerContext that covers every job type.";

    /// <summary>
    /// Replaces the in-memory store with the SQLite store: every accepted job, retry, delayed job, idempotency key and
    /// dead letter is kept in one database file and survives a crash of the process. Its dead letters are the
    /// application's <see cref="IDeadLetterQueue"/>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddJobQueue()</c>.</param>
    /// <param name="connectionString">The database file, for example <c>Data Source=jobs.db</c>; created if missing.</param>
    /// <param name="configure">Adjusts the store's <see cref="SqliteStoreOptions"/> (leases, polling, batching).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The file is opened, checked and migrated when the host starts: a file that is not a SQLite database, or that
    /// cannot be written, fails the start with a message that says so.
    /// </remarks>
    [RequiresUnreferencedCode(SerializationMessage)]
    [RequiresDynamicCode(SerializationMessage)]
    public static IJobQueueBuilder UseSqlite(this IJobQueueBuilder builder, string connectionString, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        var services = builder.Services;
        DurableStoreRegistration.AddStore<SqliteStoreOptions, SqliteStoreOptionsValidator, SqliteJobStore>(
            services, connectionString, static (options, connection) => options.ConnectionString = connection, configure);
        return builder;
    }
}
