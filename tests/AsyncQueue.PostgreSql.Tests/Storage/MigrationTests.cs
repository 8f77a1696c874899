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
        Assert.Equal(1, error.RequiredVersion);
        Assert.Contains($"'{schema}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs version 1", error.Message, StringComparison.Ordinal);
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
    public async Task MigrateAsync_ManyAtOnceThenAgain_AllSucceedAtVersion1()
    {
        var schema = PostgreSqlServer.NewSchema();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema))));
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);

        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand($"SELECT value FROM {schema}.meta WHERE key = 'schema_version'");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task MigrateAsync_BadSchemaName_ThrowsArgumentException()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, "bad-name; DROP"));

        Assert.Equal("schema", error.ParamName);
    }

    private IHost Host(string schema, RunRecorder? recorder = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(recorder ?? new RunRecorder(1));
        builder.Services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue)
            .UsePostgreSql(server.ConnectionString, options =>
            {
                options.Schema = schema;
                options.MigrateOnStart = false;
            });
        return builder.Build();
    }

    private async Task<bool> SchemaExistsAsync(string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT to_regnamespace(@schema) IS NOT NULL");
        command.Parameters.AddWithValue("schema", schema);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
