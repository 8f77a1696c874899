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

    /// <summary>Jobs per run of the strict store (batches at <c>LeaseAhead</c> 0 and synchronous completions): a commit round trip per job.</summary>
    public const int StrictJobs = 2_000;

    /// <summary>The database the scenario's throwaway server creates.</summary>
    public const string Database = "asyncqueue_bench";

    private readonly AsyncQueueContender _contender;

    /// <param name="connectionString">The server.</param>
    /// <param name="workers">The queue's <c>MaxConcurrency</c>.</param>
    /// <param name="strict">
    /// <see langword="false"/>: the store's defaults. <see langword="true"/>: <c>LeaseAhead</c> 0 and
    /// <c>AsynchronousCompletions</c> off, the opt-outs for those who want a worker to wait for its commit and a process
    /// to lease only what its workers run (docs/delivery.md).
    /// </param>
    public PostgreSqlScenario(string connectionString, int workers, bool strict = false)
    {
        Schema = "aq_" + Guid.NewGuid().ToString("N")[..12];
        _contender = new AsyncQueueContender((services, completion) =>
        {
            // A singleton handler, as in scenario 2's engine contender: the store is what is measured.
            services.AddSingleton<IJobHandler<Job>>(new NoOpHandler(completion));
            services.AddJobQueue()
                .UsePostgreSql(connectionString, options =>
                {
                    options.Schema = Schema;
                    if (strict)
                    {
                        options.LeaseAhead = 0;
                        options.AsynchronousCompletions = false;
                    }
                })
                .AddHandler<Job, NoOpHandler>(queue => queue.MaxConcurrency = workers);
        });
    }

    /// <summary>Gets the schema of this store's tables.</summary>
    public string Schema { get; }

    public Task StartAsync() => _contender.StartAsync();

    /// <summary>One <c>EnqueueAsync</c> per job.</summary>
    public Task SingleAsync(int jobs) => Drive.SteadyAsync(_contender, jobs);

    /// <summary><c>EnqueueBatchAsync</c> of <see cref="Batch"/> fresh jobs at a time.</summary>
    public Task BatchesAsync(int jobs) => Drive.SteadyBatchesAsync(_contender, jobs, Batch);

    public ValueTask DisposeAsync() => _contender.DisposeAsync();

    /// <summary>One run of each contender, measured side by side on one server.</summary>
    public readonly record struct Result(string Server, Measure.Result OneByOne, Measure.Result Batched, Measure.Result Strict, Measure.Result Hangfire)
    {
        /// <summary>One line for the quick mode and the <c>--postgresql</c> mode; <paramref name="ratios"/> false leaves out the ratios to Hangfire.</summary>
        public string Describe(int singleJobs, int batchedJobs, int hangfireJobs, bool ratios = true) => string.Create(
            CultureInfo.InvariantCulture,
            $"AsyncQueue defaults, single EnqueueAsync ({singleJobs:N0} jobs) {OneByOne.JobsPerSecond:N0} jobs/s{Ratio(OneByOne, ratios)}; defaults, batches of {Batch:N0} ({batchedJobs:N0} jobs) {Batched.JobsPerSecond:N0} jobs/s{Ratio(Batched, ratios)}; batches with LeaseAhead 0 + synchronous completions ({Math.Min(batchedJobs, StrictJobs):N0} jobs) {Strict.JobsPerSecond:N0} jobs/s{Ratio(Strict, ratios)}; {HangfireContender.PostgreSqlLabel} ({hangfireJobs:N0} jobs) {Hangfire.JobsPerSecond:N0} jobs/s (PostgreSQL {Server})");

        private string Ratio(Measure.Result result, bool ratios) => ratios ? string.Create(CultureInfo.InvariantCulture, $" = {result.JobsPerSecond / Hangfire.JobsPerSecond:F1}x Hangfire") : string.Empty;
    }

    /// <summary>
    /// A fresh server on this machine, then for each contender (each in its own schema) one warm-up run and the best of
    /// <paramref name="runs"/>. Throws when PostgreSQL is not installed (see <see cref="ThrowawayPostgreSqlServer.FindBinaries"/>).
    /// </summary>
    public static async Task<Result> MeasureAsync(int workers, int singleJobs, int batchedJobs, int hangfireJobs, int runs, bool synchronousCommit = true, int rotation = 0)
    {
        // PostgreSQL's durable defaults (fsync and synchronous_commit on), unlike the store tests' server: the figures
        // are those of a real deployment's commits. synchronous_commit off: a commit survives the applications
        // crashing, but a crash of the server or machine may undo the last few hundred milliseconds of commits.
        await using var server = await ThrowawayPostgreSqlServer.StartAsync(Database, synchronousCommit ? [] : ["synchronous_commit=off"]);
        return await MeasureAsync(server.ConnectionString, server.Version, workers, singleJobs, batchedJobs, hangfireJobs, runs, rotation);
    }

    /// <summary>
    /// As above, on a server already running (<paramref name="connectionString"/>), described as <paramref name="server"/>.
    /// The contenders take turns in an order rotated by <paramref name="rotation"/>, so that none always runs first.
    /// </summary>
    public static async Task<Result> MeasureAsync(string connectionString, string server, int workers, int singleJobs, int batchedJobs, int hangfireJobs, int runs, int rotation = 0)
    {
        var strictJobs = Math.Min(batchedJobs, StrictJobs);
        Measure.Result single = default, batched = default, strict = default, hangfire = default;
        Func<Task>[] turns =
        [
            async () =>
            {
                await using var store = new PostgreSqlScenario(connectionString, workers);
                await store.StartAsync();
                single = await BestAsync(singleJobs, runs, () => store.SingleAsync(singleJobs));
            },
            async () =>
            {
                await using var store = new PostgreSqlScenario(connectionString, workers);
                await store.StartAsync();
                batched = await BestAsync(batchedJobs, runs, () => store.BatchesAsync(batchedJobs));
            },
            async () =>
            {
                await using var store = new PostgreSqlScenario(connectionString, workers, strict: true);
                await store.StartAsync();
                strict = await BestAsync(strictJobs, runs, () => store.BatchesAsync(strictJobs));
            },
            async () =>
            {
                await using var peer = HangfireContender.OnPostgreSql(connectionString, workers);
                await peer.StartAsync();
                hangfire = await BestAsync(hangfireJobs, runs, () => Drive.SteadyAsync(peer, hangfireJobs));
            },
        ];
        for (var turn = 0; turn < turns.Length; turn++)
        {
            await turns[(turn + rotation) % turns.Length]();
        }

        return new Result(server, single, batched, strict, hangfire);
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
