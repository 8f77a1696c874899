using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The server store: end-to-end, a steady producer through <c>UsePostgreSql(connectionString)</c> with its default
/// options and the workers running, until the last handler has run, against a PostgreSQL server on this machine
/// (<see cref="ThrowawayPostgreSqlServer"/>). Each contender gets a schema of its own on the same server. Jobs are enqueued one
/// <c>EnqueueAsync</c> at a time, or in <c>EnqueueBatchAsync</c> batches of <see cref="Batch"/> (one transaction each).
/// </summary>
public sealed class PostgreSqlScenario : IAsyncDisposable
{
    /// <summary>The batch size of the batched producer.</summary>
    public const int Batch = 1_000;

    /// <summary>Jobs per BenchmarkDotNet invocation of AsyncQueue in batches: about 2 s at the 10,000 jobs/s target.</summary>
    public const int Jobs = 20_000;

    /// <summary>Jobs per BenchmarkDotNet invocation of AsyncQueue with one <c>EnqueueAsync</c> per job: each waits for its commit.</summary>
    public const int SingleJobs = 2_000;

    /// <summary>Jobs per BenchmarkDotNet invocation of Hangfire.PostgreSql.</summary>
    public const int HangfireJobs = 500;

    /// <summary>The database the scenario's throwaway server creates.</summary>
    public const string Database = "asyncqueue_bench";

    /// <summary>The tuned store's <see cref="AsyncQueue.PostgreSql.PostgreSqlStoreOptions.LeaseAhead"/>.</summary>
    public const int TunedLeaseAhead = 256;

    private readonly AsyncQueueContender _contender;

    /// <param name="connectionString">The server.</param>
    /// <param name="workers">The queue's <c>MaxConcurrency</c>.</param>
    /// <param name="tuned">
    /// <see langword="false"/>: the store's defaults. <see langword="true"/>: <c>LeaseAhead</c> <see cref="TunedLeaseAhead"/>
    /// and <c>AsynchronousCompletions</c>, the two options that trade a crash's cost for throughput (docs/stores.md).
    /// </param>
    public PostgreSqlScenario(string connectionString, int workers, bool tuned = false)
    {
        var schema = "aq_" + Guid.NewGuid().ToString("N")[..12];
        _contender = new AsyncQueueContender((services, completion) =>
        {
            // A singleton handler, as in scenario 2's engine contender: the store is what is measured.
            services.AddSingleton<IJobHandler<Job>>(new NoOpHandler(completion));
            services.AddJobQueue()
                .UsePostgreSql(connectionString, options =>
                {
                    options.Schema = schema;
                    if (tuned)
                    {
                        options.LeaseAhead = TunedLeaseAhead;
                        options.AsynchronousCompletions = true;
                    }
                })
                .AddHandler<Job, NoOpHandler>(queue => queue.MaxConcurrency = workers);
        });
    }

    public Task StartAsync() => _contender.StartAsync();

    /// <summary>One <c>EnqueueAsync</c> per job.</summary>
    public Task SingleAsync(int jobs) => Drive.SteadyAsync(_contender, jobs);

    /// <summary><c>EnqueueBatchAsync</c> of <see cref="Batch"/> fresh jobs at a time.</summary>
    public Task BatchesAsync(int jobs) => Drive.SteadyBatchesAsync(_contender, jobs, Batch);

    public ValueTask DisposeAsync() => _contender.DisposeAsync();

    /// <summary>One run of each contender, measured side by side on one server.</summary>
    public readonly record struct Result(string Server, Measure.Result OneByOne, Measure.Result Batched, Measure.Result Tuned, Measure.Result Hangfire)
    {
        /// <summary>One line for the quick mode and the <c>--postgresql</c> mode; <paramref name="ratios"/> false leaves out the ratios to Hangfire.</summary>
        public string Describe(int singleJobs, int batchedJobs, int hangfireJobs, bool ratios = true) => string.Create(
            CultureInfo.InvariantCulture,
            $"AsyncQueue single EnqueueAsync ({singleJobs:N0} jobs) {OneByOne.JobsPerSecond:N0} jobs/s{Ratio(OneByOne, ratios)}; batches of {Batch:N0} ({batchedJobs:N0} jobs) {Batched.JobsPerSecond:N0} jobs/s{Ratio(Batched, ratios)}; batches + LeaseAhead {TunedLeaseAhead} + AsynchronousCompletions {Tuned.JobsPerSecond:N0} jobs/s{Ratio(Tuned, ratios)}; {HangfireContender.PostgreSqlLabel} ({hangfireJobs:N0} jobs) {Hangfire.JobsPerSecond:N0} jobs/s (target 10,000; PostgreSQL {Server})");

        private string Ratio(Measure.Result result, bool ratios) => ratios ? string.Create(CultureInfo.InvariantCulture, $" = {result.JobsPerSecond / Hangfire.JobsPerSecond:F1}x Hangfire") : string.Empty;
    }

    /// <summary>
    /// A fresh server on this machine, then for each contender (each in its own schema) one warm-up run and the best of
    /// <paramref name="runs"/>. Throws when PostgreSQL is not installed (see <see cref="ThrowawayPostgreSqlServer.FindBinaries"/>).
    /// </summary>
    public static async Task<Result> MeasureAsync(int workers, int singleJobs, int batchedJobs, int hangfireJobs, int runs, bool synchronousCommit = true)
    {
        // PostgreSQL's durable defaults (fsync and synchronous_commit on), unlike the store tests' server: the figures
        // are those of a real deployment's commits. synchronous_commit off: a commit survives the applications
        // crashing, but a crash of the server or machine may undo the last few hundred milliseconds of commits.
        await using var server = await ThrowawayPostgreSqlServer.StartAsync(Database, synchronousCommit ? [] : ["synchronous_commit=off"]);
        return await MeasureAsync(server.ConnectionString, server.Version, workers, singleJobs, batchedJobs, hangfireJobs, runs);
    }

    /// <summary>As above, on a server already running (<paramref name="connectionString"/>), described as <paramref name="server"/>.</summary>
    public static async Task<Result> MeasureAsync(string connectionString, string server, int workers, int singleJobs, int batchedJobs, int hangfireJobs, int runs)
    {
        Measure.Result single;
        Measure.Result batched;
        await using (var store = new PostgreSqlScenario(connectionString, workers))
        {
            await store.StartAsync();
            single = await BestAsync(singleJobs, runs, () => store.SingleAsync(singleJobs));
            batched = await BestAsync(batchedJobs, runs, () => store.BatchesAsync(batchedJobs));
        }

        Measure.Result tuned;
        await using (var store = new PostgreSqlScenario(connectionString, workers, tuned: true))
        {
            await store.StartAsync();
            tuned = await BestAsync(batchedJobs, runs, () => store.BatchesAsync(batchedJobs));
        }

        Measure.Result hangfire;
        await using (var peer = HangfireContender.OnPostgreSql(connectionString, workers))
        {
            await peer.StartAsync();
            hangfire = await BestAsync(hangfireJobs, runs, () => Drive.SteadyAsync(peer, hangfireJobs));
        }

        return new Result(server, single, batched, tuned, hangfire);
    }

    private static async Task<Measure.Result> BestAsync(int jobs, int runs, Func<Task> body)
    {
        var best = new Measure.Result(0, double.MaxValue);
        for (var run = -1; run < runs; run++)
        {
            var result = await Measure.TimeAsync(jobs, body);
            best = run >= 0 ? Measure.Best(best, result) : best;
        }

        return best;
    }
}
