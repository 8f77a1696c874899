using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// <see cref="PostgreSqlStoreOptions.UseListenNotify"/> off (for a pooler in transaction mode): no LISTEN session, no
/// notification, and workers find jobs enqueued by other processes by polling, driven here by a fake clock.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PollingOnlyTests(PostgreSqlServer server) : IAsyncLifetime
{
    private const string Queue = "work";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly string _schema = PostgreSqlServer.NewSchema();
    private readonly List<ServiceProvider> _providers = [];

    private string Channel => _schema + "_jobs";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }

    [Fact]
    public async Task Fetch_ListenNotifyOff_SendsNoNotificationAndFindsJobsEnqueuedElsewhereByPolling()
    {
        var (worker, workerTime) = Open(listenNotify: false);
        var (producer, _) = Open(listenNotify: false);
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);

        // The test listens on the store's channel itself, to see what the stores send. The handler runs inside
        // WaitAsync on this test's own flow, so the list needs no lock.
        await using var listener = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false }.ConnectionString);
        await listener.OpenAsync();
        var received = new List<string>();
        listener.Notification += (_, e) => received.Add(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN \"{Channel}\"", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var consumer = worker.OpenConsumer(Queue);
        var first = consumer.FetchAsync(CancellationToken.None).AsTask();

        // One job through the job queue's enqueue, one in the application's transaction: both committed below.
        await producer.EnqueueAsync(new JobRecord(JobId.NewId(), nameof(WorkJob), Queue, new WorkJob(1), workerTime.GetUtcNow()), CancellationToken.None);
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await ((IPostgreSqlJobQueue)producer).EnqueueAsync(new WorkJob(2), transaction, new EnqueueOptions { Queue = Queue });
            await transaction.CommitAsync();
        }

        // Notifications arrive in the order their transactions committed: had either enqueue notified, its notification
        // would come before this marker, sent after both committed.
        await using (var marker = dataSource.CreateCommand($"NOTIFY \"{Channel}\", 'marker'"))
        {
            await marker.ExecuteNonQueryAsync();
        }

        while (!received.Contains("marker"))
        {
            await listener.WaitAsync();
        }

        Assert.Equal(["marker"], received);

        // Nothing wakes the worker but its poll: advance its clock a poll interval at a time until both jobs are fetched.
        var second = FetchAfterAsync(first, consumer);
        await Poll.UntilAsync(
            () =>
            {
                if (!second.IsCompleted)
                {
                    workerTime.Advance(PollInterval);
                }

                return second.IsCompleted;
            },
            "the worker's polls found both jobs");
        var fetched = new[] { await first, await second };
        Assert.Equal([1, 2], fetched.Select(job => ((WorkJob)job.Job).Number).Order());
        foreach (var job in fetched)
        {
            await worker.CompleteAsync(job, CancellationToken.None);
        }

        // A store that listens (the default) shows as one LISTEN session on the channel; the two polling stores opened none.
        _ = Open(listenNotify: true);
        await Poll.UntilAsync(async () => await ListenSessionsAsync(dataSource, listener.ProcessID) >= 1, "the listening store's LISTEN session appeared");
        Assert.Equal(1, await ListenSessionsAsync(dataSource, listener.ProcessID));
    }

    private static async Task<JobRecord> FetchAfterAsync(Task<JobRecord> first, IJobConsumer consumer)
    {
        await first;
        return await consumer.FetchAsync(CancellationToken.None);
    }

    private async Task<long> ListenSessionsAsync(NpgsqlDataSource dataSource, int excludedPid)
    {
        // A listening connection's last statement is its LISTEN: it only waits for notifications after that.
        await using var command = dataSource.CreateCommand("SELECT COUNT(*) FROM pg_stat_activity WHERE query = @listen AND pid <> @excluded");
        command.Parameters.AddWithValue("listen", $"LISTEN \"{Channel}\"");
        command.Parameters.AddWithValue("excluded", excludedPid);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private (IJobStore Store, FakeTimeProvider Time) Open(bool listenNotify)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue)
            .UsePostgreSql(server.ConnectionString, options =>
            {
                options.Schema = _schema;
                options.UseListenNotify = listenNotify;
                options.PollInterval = PollInterval;
                options.SweepInterval = TimeSpan.FromHours(1);
            });
        services.AddSingleton(new RunRecorder(1));
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return (provider.GetRequiredService<IJobStore>(), time);
    }
}
