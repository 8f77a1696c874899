using System.Diagnostics.CodeAnalysis;
using AsyncQueue.PostgreSql;
using AsyncQueue.PostgreSql.DependencyInjection;
using AsyncQueue.PostgreSql.Storage;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

// UsePostgreSql() on IJobQueueBuilder sits beside AddJobQueue(), in the namespace applications already import.
#pragma warning disable IDE0130
namespace AsyncQueue;
#pragma warning restore IDE0130

/// <summary>Puts the job queue on PostgreSQL: <c>services.AddJobQueue().UsePostgreSql("Host=db;Database=app;...")</c>.</summary>
public static class PostgreSqlJobQueueBuilderExtensions
{
    internal const string SerializationMessage =
        "Job payloads are serialized with System.Text.Json over the registered job types. In a trimmed or native AOT app, set PostgreSqlStoreOptions.SerializerOptions with a source-generated JsonSerializerContext that covers every job type.";

    /// <summary>
    /// Replaces the in-memory store with the PostgreSQL store: every accepted job, retry, delayed job, idempotency key and
    /// dead letter is kept in the database, shared by every worker process that uses the same database and schema. The
    /// application's <see cref="IDeadLetterQueue"/> reaches its dead letters.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddJobQueue()</c>.</param>
    /// <param name="connectionString">The Npgsql connection string, for example <c>Host=db;Database=app;Username=app;Password=...</c>.</param>
    /// <param name="configure">Adjusts the store's <see cref="PostgreSqlStoreOptions"/> (schema, leases, polling, batching).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The server is reached and the schema created or checked (under an advisory lock, so processes may start at
    /// once) when the host starts: a wrong connection string or an unreachable server fails the start with a message
    /// that says so. With <see cref="PostgreSqlStoreOptions.MigrateOnStart"/> off the schema is only checked; migrate
    /// it beforehand with <see cref="PostgreSqlJobStoreSchema.MigrateAsync"/>.
    /// </remarks>
    [RequiresUnreferencedCode(SerializationMessage)]
    [RequiresDynamicCode(SerializationMessage)]
    public static IJobQueueBuilder UsePostgreSql(this IJobQueueBuilder builder, string connectionString, Action<PostgreSqlStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        var services = builder.Services;
        DurableStoreRegistration.AddStore<PostgreSqlStoreOptions, PostgreSqlStoreOptionsValidator, PostgreSqlJobStore>(
            services, connectionString, static (options, connection) => options.ConnectionString = connection, configure);
        services.TryAddSingleton<IPostgreSqlJobQueue>(static sp => (PostgreSqlJobStore)sp.GetRequiredService<IJobStore>());
        return builder;
    }
}
