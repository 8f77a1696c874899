using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// A completion statement that fails with a deadlock or a serialization failure is run again, a bounded number of
/// times. The failures are made deterministic by a trigger the test puts on the jobs table, which raises the error
/// for as many completions (a row updated to succeeded) as a sequence (not rolled back with them) allows.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class CompletionRetryTests(PostgreSqlServer server) : IAsyncLifetime
{
    private const string Queue = "work";

    private readonly string _schema = PostgreSqlServer.NewSchema();
    private readonly List<ServiceProvider> _providers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("deadlock_detected")]
    [InlineData("serialization_failure")]
    public async Task Complete_StatementFailsOnceWithRetryableError_IsRunAgainAndCommits(string error)
    {
        var store = Open();
        await store.EnqueueAsync(Job(), CancellationToken.None);
        var job = await store.OpenConsumer(Queue).FetchAsync(CancellationToken.None);
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await FailCompletionsAsync(dataSource, error, times: 1);

        await store.CompleteAsync(job, CancellationToken.None);

        Assert.Equal(2, await FailureCounterAsync(dataSource));
        Assert.Equal(0, await JobsAsync(dataSource));
    }

    [Fact]
    public async Task Complete_StatementDeadlocksEveryTime_FailsAfterThreeAttempts()
    {
        var store = Open();
        await store.EnqueueAsync(Job(), CancellationToken.None);
        var job = await store.OpenConsumer(Queue).FetchAsync(CancellationToken.None);
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await FailCompletionsAsync(dataSource, "deadlock_detected", times: int.MaxValue);

        var thrown = await Assert.ThrowsAsync<PostgresException>(() => store.CompleteAsync(job, CancellationToken.None).AsTask());

        Assert.Equal(PostgresErrorCodes.DeadlockDetected, thrown.SqlState);
        Assert.Equal(3, await FailureCounterAsync(dataSource));
        Assert.Equal(1, await JobsAsync(dataSource));
    }

    // A row trigger on the completion's update only (the row becomes succeeded), so that the fetch loop's lease
    // statement, which runs meanwhile, never draws from the sequence.
    private async Task FailCompletionsAsync(NpgsqlDataSource dataSource, string error, int times)
    {
        await using var command = dataSource.CreateCommand($"""
            CREATE SEQUENCE {_schema}.failures;
            CREATE FUNCTION {_schema}.fail_complete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('{_schema}.failures') <= {times} THEN
                    RAISE EXCEPTION 'simulated {error}' USING ERRCODE = '{error}';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_complete BEFORE UPDATE ON {_schema}.jobs FOR EACH ROW WHEN (NEW.state = 2) EXECUTE FUNCTION {_schema}.fail_complete();
            """);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> FailureCounterAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand($"SELECT last_value FROM {_schema}.failures");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // Jobs not finished: a completed job stays as succeeded (state 2) for its status.
    private async Task<long> JobsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state < 2");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private IJobStore Open()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero)));
        services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue)
            .UsePostgreSql(server.ConnectionString, options =>
            {
                options.Schema = _schema;
                options.SweepInterval = TimeSpan.FromHours(1);

                // The tests await CompleteAsync for the statement's outcome: it must wait for the commit.
                options.AsynchronousCompletions = false;
            });
        services.AddSingleton(new RunRecorder(1));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<IJobStore>();
    }

    private static JobRecord Job() => new(JobId.NewId(), nameof(WorkJob), Queue, new WorkJob(1), new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));
}
