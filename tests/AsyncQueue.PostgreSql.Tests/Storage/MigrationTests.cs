using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// The schema migrated on its own (<see cref="PostgreSqlJobStoreSchema.MigrateAsync"/>), for stores that start with
/// <see cref="PostgreSqlStoreOptions.MigrateOnStart"/> off.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class MigrationTests(PostgreSqlServer server)
{
    private const string Queue = "work";

    [Fact]
    public async Task Start_MigrateOnStartOffAndNoSchema_FailsNamingSchemaAndVersionsAndCreatesNothing()
    {
        var schema = PostgreSqlServer.NewSchema();
        using var host = Host(schema);

        var error = await Assert.ThrowsAsync<PostgreSqlSchemaVersionException>(() => host.StartAsync());

        Assert.Equal(schema, error.Schema);
        Assert.Equal(0, error.FoundVersion);
        Assert.Equal(2, error.RequiredVersion);
        Assert.Contains($"'{schema}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs version 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("PostgreSqlJobStoreSchema.MigrateAsync", error.Message, StringComparison.Ordinal);
        Assert.False(await SchemaExistsAsync(schema));
    }

    [Fact]
    public async Task Start_MigrateOnStartOffAfterMigrateAsync_StartsAndRunsJob()
    {
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        var recorder = new RunRecorder(1);
        using var host = Host(schema, recorder);

        await host.StartAsync();
        try
        {
            await host.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new WorkJob(7));
            await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await host.StopAsync();
        }

        Assert.Equal(1, recorder.Runs[7]);
    }

    [Fact]
    public async Task MigrateAsync_ManyAtOnceThenAgain_AllSucceedAtVersion2()
    {
        var schema = PostgreSqlServer.NewSchema();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema))));
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);

        Assert.Equal(2L, await SchemaVersionAsync(schema));
    }

    [Fact]
    public async Task Start_SchemaAtVersion1WithWaitingAndExpiredLeasedJobs_MigratesToVersion2AndRunsBoth()
    {
        // Version 1 is version 2 without the isolated and started columns and their index.
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        await ExecuteAsync($"""
            DROP INDEX {schema}.jobs_isolated;
            ALTER TABLE {schema}.jobs DROP COLUMN isolated, DROP COLUMN started;
            UPDATE {schema}.meta SET value = 1 WHERE key = 'schema_version';
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held, lease_token, lease_expires) VALUES
            ('{Guid.NewGuid()}', '{Queue}', 'WorkJob', '{"{\"Number\":1}"}', 0, 0, 0, 0, false, NULL, NULL),
            ('{Guid.NewGuid()}', '{Queue}', 'WorkJob', '{"{\"Number\":2}"}', 1, 0, 1, 0, false, 1, 0);
            """);

        // The second job's lease expired long ago: its version 1 row reads as not started, so it is rescued uncharged.
        var recorder = new RunRecorder(2);
        using var host = Host(schema, recorder, migrateOnStart: true);
        await host.StartAsync();
        try
        {
            await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await host.StopAsync();
        }

        Assert.Equal(1, recorder.Runs[1]);
        Assert.Equal(1, recorder.Runs[2]);
        Assert.Equal(2L, await SchemaVersionAsync(schema));
    }

    [Fact]
    public async Task Start_MigrateOnStartOffAndSchemaAtVersion1_FailsNamingBothVersions()
    {
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        await ExecuteAsync($"UPDATE {schema}.meta SET value = 1 WHERE key = 'schema_version'");
        using var host = Host(schema);

        var error = await Assert.ThrowsAsync<PostgreSqlSchemaVersionException>(() => host.StartAsync());

        Assert.Equal(1, error.FoundVersion);
        Assert.Equal(2, error.RequiredVersion);
        Assert.Contains("at version 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_BadSchemaName_ThrowsArgumentException()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, "bad-name; DROP"));

        Assert.Equal("schema", error.ParamName);
    }

    private IHost Host(string schema, RunRecorder? recorder = null, bool migrateOnStart = false)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(recorder ?? new RunRecorder(1));
        builder.Services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue)
            .UsePostgreSql(server.ConnectionString, options =>
            {
                options.Schema = schema;
                options.MigrateOnStart = migrateOnStart;
            });
        return builder.Build();
    }

    private async Task<object?> SchemaVersionAsync(string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand($"SELECT value FROM {schema}.meta WHERE key = 'schema_version'");
        return await command.ExecuteScalarAsync();
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<bool> SchemaExistsAsync(string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT to_regnamespace(@schema) IS NOT NULL");
        command.Parameters.AddWithValue("schema", schema);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
