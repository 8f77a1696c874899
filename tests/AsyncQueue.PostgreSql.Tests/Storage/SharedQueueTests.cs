using AsyncQueue.Conformance;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>Several stores (each with its own connections, as separate worker processes would have) sharing one queue on one database.</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class SharedQueueTests(PostgreSqlServer server, ITestOutputHelper output)
{
    private const string Queue = "work";

    [Fact]
    public async Task ThreeHosts_Share30000Jobs_EachHandledExactlyOnce()
    {
        const int Total = 30_000;
        var schema = PostgreSqlServer.NewSchema();
        var recorder = new RunRecorder(Total);
        var hosts = new List<JobQueueTestHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                hosts.Add(await StartHostAsync(schema, recorder));
            }

            var producers = hosts.Select((host, p) => Task.Run(async () =>
            {
                for (var start = p * 10_000; start < (p + 1) * 10_000; start += 1_000)
                {
                    await host.Queue.EnqueueBatchAsync(Enumerable.Range(start, 1_000).Select(n => new WorkJob(n)));
                }
            }));
            await Task.WhenAll(producers);
            await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(3));
            await Task.Delay(500);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }

        Assert.Equal(Total, recorder.Distinct);
        Assert.Equal(0, recorder.Duplicates);
    }

    [Fact]
    public async Task TransactionalEnqueue_HalfRolledBack_ExactlyCommittedHalfRun()
    {
        const int Transactions = 1_000;
        var schema = PostgreSqlServer.NewSchema();
        var recorder = new RunRecorder(Transactions / 2);
        await using var host = await StartHostAsync(schema, recorder);
        var queue = host.Services.GetRequiredService<IPostgreSqlJobQueue>();
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using (var create = dataSource.CreateCommand($"CREATE TABLE {schema}.orders (number integer PRIMARY KEY)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < Transactions; i++)
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var order = new NpgsqlCommand($"INSERT INTO {schema}.orders (number) VALUES ({i})", connection, transaction))
            {
                await order.ExecuteNonQueryAsync();
            }

            var result = await queue.EnqueueAsync(new WorkJob(i), transaction, new EnqueueOptions { Queue = Queue });
            Assert.Equal(EnqueueStatus.Accepted, result.Status);
            if (i % 2 == 0)
            {
                await transaction.CommitAsync();
            }
            else
            {
                await transaction.RollbackAsync();
            }
        }

        await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(1));
        await Task.Delay(1_000);

        Assert.Equal(Enumerable.Range(0, Transactions / 2).Select(i => i * 2), recorder.Runs.Keys.Order());
        Assert.Equal(0, recorder.Duplicates);
    }

    [Fact]
    public async Task ServerRestart_MidRun_EveryJobStillRuns()
    {
        const int Total = 5_000;
        var schema = PostgreSqlServer.NewSchema();
        var recorder = new RunRecorder(Total);
        await using var host = await StartHostAsync(schema, recorder, lease: TimeSpan.FromSeconds(3));
        await host.Queue.EnqueueBatchAsync(Enumerable.Range(0, Total).Select(n => new WorkJob(n)));
        while (recorder.Distinct < Total / 10)
        {
            await Task.Delay(5);
        }

        server.Restart(TimeSpan.FromSeconds(1));
        await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(2));

        output.WriteLine($"{recorder.Distinct} jobs ran, {recorder.Duplicates} more than once (in flight when the server went down).");
        Assert.Equal(Total, recorder.Distinct);
    }

    /// <summary>Not a pass/fail measurement: prints jobs per second, end to end, with the server on this machine.</summary>
    [Fact]
    public async Task Throughput_20000Jobs_PrintsJobsPerSecond()
    {
        const int Total = 20_000;
        var recorder = new RunRecorder(Total);
        await using var host = await StartHostAsync(PostgreSqlServer.NewSchema(), recorder, concurrency: 16);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var start = p * (Total / 4); start < (p + 1) * (Total / 4); start += 1_000)
            {
                await host.Queue.EnqueueBatchAsync(Enumerable.Range(start, 1_000).Select(n => new WorkJob(n)));
            }
        })));
        await recorder.AllRan.WaitAsync(TimeSpan.FromMinutes(3));
        var batched = Total / clock.Elapsed.TotalSeconds;

        var single = new RunRecorder(Total / 4);
        await using var host2 = await StartHostAsync(PostgreSqlServer.NewSchema(), single, concurrency: 16);
        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var n = p * (Total / 16); n < (p + 1) * (Total / 16); n++)
            {
                await host2.Queue.EnqueueAsync(new WorkJob(n));
            }
        })));
        await single.AllRan.WaitAsync(TimeSpan.FromMinutes(3));
        var oneByOne = (Total / 4) / clock.Elapsed.TotalSeconds;

        var line = $"PostgreSQL store, end to end: {batched:N0} jobs/s with 4 producers of EnqueueBatchAsync(1000) over {Total:N0} jobs; {oneByOne:N0} jobs/s with 4 producers of one EnqueueAsync at a time over {Total / 4:N0} jobs (MaxConcurrency 16).";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.Equal(0, recorder.Duplicates);
    }

    private Task<JobQueueTestHost> StartHostAsync(string schema, RunRecorder recorder, TimeSpan? lease = null, int concurrency = 8) =>
        JobQueueTestHost.StartAsync((services, builder) =>
        {
            services.AddSingleton(recorder);
            builder.AddHandler<WorkJob, WorkHandler>(Queue, q => q.MaxConcurrency = concurrency)
                .UsePostgreSql(server.ConnectionString, options =>
                {
                    options.Schema = schema;
                    options.PollInterval = TimeSpan.FromMilliseconds(200);
                    if (lease is { } duration)
                    {
                        options.LeaseDuration = duration;
                        options.HeartbeatInterval = duration / 3;
                        options.SweepInterval = TimeSpan.FromMilliseconds(500);
                    }
                });
        });
}
