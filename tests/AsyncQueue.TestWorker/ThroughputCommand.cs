using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AsyncQueue.TestWorker;

/// <summary>A job of the throughput run.</summary>
/// <param name="Number">Its number.</param>
[JobKind("throughput-job")]
public sealed record ThroughputJob(int Number);

internal sealed class ThroughputCounter(int jobs)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _handled;

    public Task Done => _done.Task;

    public void Handled()
    {
        if (Interlocked.Increment(ref _handled) == jobs)
        {
            _done.SetResult();
        }
    }
}

internal sealed class ThroughputJobHandler(ThroughputCounter counter) : IJobHandler<ThroughputJob>
{
    public Task HandleAsync(ThroughputJob job, JobContext context, CancellationToken cancellationToken)
    {
        counter.Handled();
        return Task.CompletedTask;
    }
}

/// <summary>End-to-end throughput on the chosen store: producers enqueue while workers run, timed until the last job ran.</summary>
internal static class ThroughputCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var store = StoreChoice.From(args);
        var jobs = args.Int("jobs", 100_000);
        var concurrency = args.Int("concurrency", 16);
        var producers = args.Int("producers", 4);
        var batch = args.Int("batch", 0);
        string? schema = null;
        if (store.SqliteFile is { } database)
        {
            foreach (var file in new[] { database, database + "-wal", database + "-shm" })
            {
                File.Delete(file);
            }
        }
        else
        {
            // A schema (PostgreSQL) or key prefix (Redis) of its own: the run starts empty; a schema is dropped afterwards.
            schema = "throughput_" + Guid.NewGuid().ToString("N");
        }

        try
        {
            return await RunAsync(store, schema, jobs, concurrency, producers, batch);
        }
        finally
        {
            if (store.PostgresConnection is { } connection && schema is not null)
            {
                await using var dataSource = NpgsqlDataSource.Create(connection);
                await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
                await drop.ExecuteNonQueryAsync();
            }
        }
    }

    private static async Task<int> RunAsync(StoreChoice store, string? schema, int jobs, int concurrency, int producers, int batch)
    {
        var counter = new ThroughputCounter(jobs);
        using var host = ChildHost.Build(
            store,
            queue => queue.AddHandler<ThroughputJob, ThroughputJobHandler>(q => q.MaxConcurrency = concurrency),
            services => services.AddSingleton(counter).AddSingleton<ThroughputJobHandler>().AddSingleton<IJobHandler<ThroughputJob>>(sp => sp.GetRequiredService<ThroughputJobHandler>()),
            shortLeases: false,
            schema: schema);
        await host.StartAsync();
        var queue = host.Services.GetRequiredService<IJobQueue>();

        var clock = Stopwatch.StartNew();
        var perProducer = jobs / producers;
        var producing = Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var first = p * perProducer;
            var count = p == producers - 1 ? jobs - first : perProducer;
            if (batch > 0)
            {
                for (var i = 0; i < count; i += batch)
                {
                    await queue.EnqueueBatchAsync(Enumerable.Range(first + i, Math.Min(batch, count - i)).Select(n => new ThroughputJob(n)));
                }
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    await queue.EnqueueAsync(new ThroughputJob(first + i));
                }
            }
        })).ToArray();
        await Task.WhenAll(producing);
        var enqueued = clock.Elapsed;
        await counter.Done.WaitAsync(TimeSpan.FromMinutes(10));
        var total = clock.Elapsed;
        await host.StopAsync();

        var mode = batch > 0 ? $"batches of {batch}" : "single EnqueueAsync calls";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{store.Name}, {jobs} jobs, {producers} producer(s) with {mode}, MaxConcurrency {concurrency}: all enqueued after {enqueued.TotalSeconds:F2} s ({jobs / enqueued.TotalSeconds:F0} enqueues/s); all handled after {total.TotalSeconds:F2} s = {jobs / total.TotalSeconds:F0} jobs/s end-to-end."));
        return 0;
    }
}
