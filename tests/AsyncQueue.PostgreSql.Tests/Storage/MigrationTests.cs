using AsyncQueue.RateLimiting;
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
        Assert.Equal(4, error.RequiredVersion);
        Assert.Contains($"'{schema}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs version 4", error.Message, StringComparison.Ordinal);
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
    public async Task Start_MigrateOnStartOffRateLimitAndNoRateWindows_FailsNamingQueueAndTableUntilMigrateAsyncAddsIt()
    {
        // A schema migrated by a build without rate limits: it lacks the counters' table.
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        await ExecuteAsync($"DROP TABLE {schema}.rate_windows");
        using (var host = Host(schema, rateLimit: JobRateLimit.PerSecond(5)))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

            Assert.Contains($"Queue '{Queue}'", error.Message, StringComparison.Ordinal);
            Assert.Contains($"{schema}.rate_windows", error.Message, StringComparison.Ordinal);
            Assert.Contains("PostgreSqlJobStoreSchema.MigrateAsync", error.Message, StringComparison.Ordinal);
        }

        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);

        Assert.Equal(4L, await SchemaVersionAsync(schema));
        var recorder = new RunRecorder(1);
        using var again = Host(schema, recorder, rateLimit: JobRateLimit.PerSecond(5));
        await again.StartAsync();
        try
        {
            await again.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new WorkJob(7));
            await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await again.StopAsync();
        }
    }

    [Fact]
    public async Task MigrateAsync_ManyAtOnceThenAgain_AllSucceedAtVersion4()
    {
        var schema = PostgreSqlServer.NewSchema();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema))));
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);

        Assert.Equal(4L, await SchemaVersionAsync(schema));
    }

    [Fact]
    public async Task Start_SchemaAtVersion1WithWaitingAndExpiredLeasedJobs_MigratesToVersion4AndRunsBoth()
    {
        // Version 1 is version 3 without the isolated and started columns and their index, and without version 3's.
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        await ExecuteAsync($"""
            {DowngradeToVersion2(schema)}
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
        Assert.Equal(4L, await SchemaVersionAsync(schema));
    }

    [Fact]
    public async Task MigrateAsync_SchemaAtVersion2WithWaitingAndKeyHoldingJobs_MigratesToVersion4KeepingBoth()
    {
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        var waiting = Guid.NewGuid();
        var keyHolder = Guid.NewGuid();
        var start = StoreProcess.Start.UtcTicks;
        await ExecuteAsync($"""
            {DowngradeToVersion2(schema)}
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, idempotency_key, key_held, key_expires) VALUES
            ('{waiting}', '{Queue}', 'WorkJob', '{"{\"Number\":1}"}', 0, {start}, 0, {start}, NULL, false, NULL),
            ('{keyHolder}', '{Queue}', 'WorkJob', NULL, 2, {start - 600_000_000}, 1, {start - 1_200_000_000}, 'kept-key', true, {start + TimeSpan.TicksPerDay});
            """);

        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);

        Assert.Equal(4L, await SchemaVersionAsync(schema));
        await using var store = StoreProcess.Open(server.ConnectionString, schema);
        var job = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal((new JobId(waiting), JobPriority.Normal), (job.Id, job.Priority));
        var kept = await store.GetAsync(new JobId(keyHolder));
        Assert.Equal((JobState.Succeeded, new DateTimeOffset(start - 600_000_000, TimeSpan.Zero)), (kept.State, kept.FinishedAt!.Value));
        Assert.Equal(EnqueueStatus.Duplicate, (await store.Store.EnqueueAsync(store.Job(2, key: "kept-key"), CancellationToken.None)).Status);
    }

    /// <summary>
    /// A version 3 schema's job that a continuation registered after the upgrade to version 4 waits for: the old row is a
    /// parent like any other, and its success releases the continuation in the transaction that records it.
    /// </summary>
    [Fact]
    public async Task MigrateAsync_SchemaAtVersion3WithWaitingJob_MigratesToVersion4AndItsContinuationRunsAfterIt()
    {
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        var parent = Guid.NewGuid();
        var start = StoreProcess.Start.UtcTicks;
        await ExecuteAsync($"""
            {DowngradeToVersion3(schema)}
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held) VALUES
            ('{parent}', '{Queue}', 'WorkJob', '{"{\"Number\":1}"}', 0, {start}, 0, {start}, false);
            """);

        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);

        Assert.Equal(4L, await SchemaVersionAsync(schema));
        await using var store = StoreProcess.Open(server.ConnectionString, schema);
        var child = store.Job(2);
        child = new JobRecord(child.Id, child.Kind, child.Queue, child.Job, child.EnqueuedAt) { ParentIds = [new JobId(parent)] };
        await store.Store.EnqueueContinuationAsync(child, CancellationToken.None);
        Assert.Equal(JobState.AwaitingParent, (await store.GetAsync(child.Id)).State);
        var first = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new JobId(parent), first.Id);
        await store.Store.CompleteAsync(first, CancellationToken.None);
        var released = await store.FetchAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(child.Id, released.Id);
        Assert.Equal([new JobId(parent)], released.ParentIds!);
        Assert.False(released.ParentFailed);
    }

    /// <summary>Turns a schema just made at version 4 back into version 3: without the continuations' columns and table.</summary>
    private static string DowngradeToVersion3(string schema) => $"""
        ALTER TABLE {schema}.jobs DROP COLUMN parent_ids, DROP COLUMN pending_parents, DROP COLUMN on_parent_failure, DROP COLUMN parent_failed, DROP COLUMN has_children;
        DROP TABLE {schema}.job_parents;
        UPDATE {schema}.meta SET value = 3 WHERE key = 'schema_version';
        """;

    /// <summary>Turns a schema just made at version 4 back into version 2: without version 3's and 4's columns, tables and indexes, with the due index.</summary>
    private static string DowngradeToVersion2(string schema) => $"""
        {DowngradeToVersion3(schema)}
        DROP INDEX {schema}.jobs_fetch, {schema}.jobs_finished, {schema}.jobs_id, {schema}.jobs_retained;
        ALTER TABLE {schema}.jobs DROP COLUMN priority, DROP COLUMN started_at, DROP COLUMN finished_at, DROP COLUMN result, DROP COLUMN cancel_requested;
        ALTER TABLE {schema}.dead_letters DROP COLUMN priority;
        DROP TABLE {schema}.queues;
        CREATE INDEX jobs_due ON {schema}.jobs (queue, run_at, seq) WHERE state = 0;
        CREATE INDEX jobs_retained ON {schema}.jobs (key_expires) WHERE state = 2;
        UPDATE {schema}.meta SET value = 2 WHERE key = 'schema_version';
        """;

    [Fact]
    public async Task Start_MigrateOnStartOffAndSchemaAtVersion1_FailsNamingBothVersions()
    {
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        await ExecuteAsync($"UPDATE {schema}.meta SET value = 1 WHERE key = 'schema_version'");
        using var host = Host(schema);

        var error = await Assert.ThrowsAsync<PostgreSqlSchemaVersionException>(() => host.StartAsync());

        Assert.Equal(1, error.FoundVersion);
        Assert.Equal(4, error.RequiredVersion);
        Assert.Contains("at version 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_BadSchemaName_ThrowsArgumentException()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, "bad-name; DROP"));

        Assert.Equal("schema", error.ParamName);
    }

    private IHost Host(string schema, RunRecorder? recorder = null, bool migrateOnStart = false, JobRateLimit? rateLimit = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(recorder ?? new RunRecorder(1));
        builder.Services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue, q => q.RateLimit = rateLimit)
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
