using AsyncQueue.Conformance;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// Rows as a crashed process or a foreign writer leaves them: an expired lease whose start was not recorded is rescued
/// uncharged and runs isolated; unreadable rows are handed out as they are and dead-lettered at once.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class StoredRowTests(PostgreSqlServer server)
{
    private const string Queue = "work";

    [Fact]
    public async Task Start_LeaseLeftExpiredByCrashedProcess_RunsAgainUnchargedAndIsolatedWithItsStartRecorded()
    {
        // The crashed process never recorded the attempt's start, so the rescue charges nothing: the job runs again as
        // the same attempt, isolated (its start recorded before its handler runs), and with no error for the crash.
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        var id = Guid.NewGuid();
        var past = TimeProvider.System.GetUtcNow().AddMinutes(-5).UtcTicks;
        await ExecuteAsync($"""
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held, lease_token, lease_expires)
            VALUES ('{id}', '{Queue}', 'WorkJob', '{"{\"Number\":7}"}', 1, {past}, 1, {past}, false, 1, {past})
            """);

        var probe = new RowProbe(server.ConnectionString, schema);
        await using var host = await JobQueueTestHost.StartAsync((services, builder) =>
        {
            services.AddSingleton(probe);
            builder.AddHandler<WorkJob, ProbeHandler>(Queue).UsePostgreSql(server.ConnectionString, o => o.Schema = schema);
        });
        var run = await probe.FirstRun.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(new JobId(id), run.Id);
        Assert.Equal(1, run.Attempt);
        Assert.True(run.Isolated);
        Assert.True(run.Started);
        Assert.Empty(run.Errors);
    }

    [Fact]
    public async Task Fetch_UnknownKindAndBadPayload_DeadLettersBothAtOnceWithReason()
    {
        var schema = PostgreSqlServer.NewSchema();
        var recorder = new RunRecorder(1);
        await using var host = await JobQueueTestHost.StartAsync((services, builder) =>
        {
            services.AddSingleton(recorder);
            builder.AddHandler<WorkJob, WorkHandler>(Queue).UsePostgreSql(server.ConnectionString, o => o.Schema = schema);
        });
        var now = TimeProvider.System.GetUtcNow().UtcTicks;
        await ExecuteAsync($"""
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held) VALUES
            ('{Guid.NewGuid()}', '{Queue}', 'NoSuchKind', '{"{}"}', 0, {now}, 0, {now}, false),
            ('{Guid.NewGuid()}', '{Queue}', 'WorkJob', 'not json', 0, {now}, 0, {now}, false)
            """);
        await host.Queue.EnqueueAsync(new WorkJob(1));

        // The store hands the unreadable rows out as they are; the dispatcher dead-letters each at its first attempt.
        await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(1));
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        await Poll.UntilAsync(async () => await deadLetters.CountAsync(Queue + "-dead-letter") == 2, "both unreadable rows were dead-lettered");
        var dead = await deadLetters.ListAsync(Queue + "-dead-letter");

        Assert.Equal(1, recorder.Runs[1]);
        Assert.Equal(2, dead.Count);
        Assert.Contains(dead, e => e.Job is UnreadableJob { Kind: "NoSuchKind" } u && u.Reason.Contains("No handler", StringComparison.Ordinal));
        Assert.Contains(dead, e => e.Job is UnreadableJob { Kind: "WorkJob", Payload: "not json" });
    }

    private ServiceProvider Build(string schema)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new RunRecorder(1));
        services.AddJobQueue().AddHandler<WorkJob, WorkHandler>(Queue).UsePostgreSql(server.ConnectionString, o => o.Schema = schema);
        return services.BuildServiceProvider();
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>What the handler saw of its job's first run, and of the job's row while it ran.</summary>
public sealed record ProbedRun(JobId Id, int Attempt, bool Isolated, bool Started, IReadOnlyList<JobError> Errors);

/// <summary>Reads a running job's row: whether it is isolated and its start recorded.</summary>
public sealed class RowProbe(string connectionString, string schema)
{
    private readonly TaskCompletionSource<ProbedRun> _firstRun = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<ProbedRun> FirstRun => _firstRun.Task;

    public async Task RecordAsync(JobContext context, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT isolated, started, errors FROM {schema}.jobs WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", context.JobId.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        Assert.True(await reader.ReadAsync(cancellationToken), $"The row of job {context.JobId} is not there while it runs.");
        var errors = reader.IsDBNull(2) ? [] : System.Text.Json.JsonSerializer.Deserialize<List<JobError>>(reader.GetString(2)) ?? [];
        _firstRun.TrySetResult(new ProbedRun(context.JobId, context.Attempt, reader.GetBoolean(0), reader.GetBoolean(1), errors));
    }
}

public sealed class ProbeHandler(RowProbe probe) : IJobHandler<WorkJob>
{
    public Task HandleAsync(WorkJob job, JobContext context, CancellationToken cancellationToken) => probe.RecordAsync(context, cancellationToken);
}
