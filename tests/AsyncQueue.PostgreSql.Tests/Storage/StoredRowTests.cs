using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>Rows as a crashed process or a foreign writer leaves them: expired leases are rescued as failed attempts, unreadable rows dead-lettered at once.</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class StoredRowTests(PostgreSqlServer server)
{
    private const string Queue = "work";

    [Fact]
    public async Task Start_LeaseLeftExpiredByCrashedProcess_RunsAgainAsNextAttemptWithLeaseExpiredError()
    {
        var schema = PostgreSqlServer.NewSchema();
        await using (var first = Build(schema))
        {
            first.GetRequiredService<IJobStore>();
        }

        var id = Guid.NewGuid();
        var past = TimeProvider.System.GetUtcNow().AddMinutes(-5).UtcTicks;
        await ExecuteAsync($"""
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held, lease_token, lease_expires)
            VALUES ('{id}', '{Queue}', 'WorkJob', '{"{\"Number\":7}"}', 1, {past}, 1, {past}, false, 1, {past})
            """);

        await using var services = Build(schema);
        var store = services.GetRequiredService<IJobStore>();
        var job = await store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(new JobId(id), job.Id);
        Assert.Equal(2, job.Attempt);
        Assert.Equal(typeof(JobLeaseExpiredException).FullName, Assert.Single(job.Errors).ExceptionType);
        await store.CompleteAsync(job, CancellationToken.None);
    }

    [Fact]
    public async Task Fetch_UnknownKindAndBadPayload_DeadLettersBothAtOnceWithReason()
    {
        var schema = PostgreSqlServer.NewSchema();
        await using var services = Build(schema);
        var store = services.GetRequiredService<IJobStore>();
        var now = TimeProvider.System.GetUtcNow().UtcTicks;
        await ExecuteAsync($"""
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held) VALUES
            ('{Guid.NewGuid()}', '{Queue}', 'NoSuchKind', '{"{}"}', 0, {now}, 0, {now}, false),
            ('{Guid.NewGuid()}', '{Queue}', 'WorkJob', 'not json', 0, {now}, 0, {now}, false)
            """);
        await store.EnqueueAsync(new JobRecord(JobId.NewId(), "WorkJob", Queue, new WorkJob(1), TimeProvider.System.GetUtcNow()), CancellationToken.None);

        var good = await store.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var dead = await ((IDeadLetterQueue)store).ListAsync(Queue + "-dead-letter");

        Assert.Equal(new WorkJob(1), good.Job);
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
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
