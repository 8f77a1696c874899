using AsyncQueue.Benchmarks.Contenders;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The durable store: end-to-end, a steady producer through <c>UseSqlite("Data Source=&lt;file&gt;")</c> with its
/// default options (WAL, synchronous NORMAL) and the workers running, until the last handler has run. The database
/// is a file in a fresh temporary folder, deleted afterwards. Jobs are enqueued one <c>EnqueueAsync</c> at a time,
/// or in <c>EnqueueBatchAsync</c> batches of <see cref="Batch"/> (one transaction each).
/// </summary>
public sealed class SqliteScenario : IAsyncDisposable
{
    /// <summary>The batch size of the batched producer.</summary>
    public const int Batch = 1_000;

    /// <summary>Jobs per BenchmarkDotNet invocation: about 2 s at the 10,000 jobs/s target.</summary>
    public const int Jobs = 20_000;

    private readonly DirectoryInfo _folder;
    private readonly AsyncQueueContender _contender;

    public SqliteScenario(int workers)
    {
        _folder = Directory.CreateTempSubdirectory("asyncqueue-bench-");
        var database = Path.Combine(_folder.FullName, "jobs.db");
        _contender = new AsyncQueueContender((services, completion) =>
        {
            // A singleton handler, as in scenario 2's engine contender: the store is what is measured.
            services.AddSingleton<IJobHandler<Job>>(new NoOpHandler(completion));
            services.AddJobQueue()
                .UseSqlite($"Data Source={database}")
                .AddHandler<Job, NoOpHandler>(queue => queue.MaxConcurrency = workers);
        });
    }

    public Task StartAsync() => _contender.StartAsync();

    /// <summary>One <c>EnqueueAsync</c> per job.</summary>
    public Task SingleAsync(int jobs) => Drive.SteadyAsync(_contender, jobs);

    /// <summary><c>EnqueueBatchAsync</c> of <see cref="Batch"/> fresh jobs at a time.</summary>
    public Task BatchesAsync(int jobs) => Drive.SteadyBatchesAsync(_contender, jobs, Batch);

    public async ValueTask DisposeAsync()
    {
        await _contender.DisposeAsync();

        // Pooled connections keep the file open; release them before the folder goes.
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }

    /// <summary>The quick mode: best of <paramref name="runs"/> after one warm-up run, each way, on one database per way.</summary>
    public static async Task<(Measure.Result Single, Measure.Result Batched)> MeasureAsync(int workers, int singleJobs, int batchedJobs, int runs)
    {
        var single = new Measure.Result(0, double.MaxValue);
        await using (var store = new SqliteScenario(workers))
        {
            await store.StartAsync();
            for (var run = -1; run < runs; run++)
            {
                var result = await Measure.TimeAsync(singleJobs, () => store.SingleAsync(singleJobs));
                single = run >= 0 ? Measure.Best(single, result) : single;
            }
        }

        var batched = new Measure.Result(0, double.MaxValue);
        await using (var store = new SqliteScenario(workers))
        {
            await store.StartAsync();
            for (var run = -1; run < runs; run++)
            {
                var result = await Measure.TimeAsync(batchedJobs, () => store.BatchesAsync(batchedJobs));
                batched = run >= 0 ? Measure.Best(batched, result) : batched;
            }
        }

        return (single, batched);
    }
}
