using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The Redis store (issue 18): end-to-end, a steady producer through <c>UseRedis(configuration)</c> with its default
/// options (<c>LeaseAhead</c> 256 and asynchronous completions), and again with the strict opt-outs (<c>LeaseAhead</c> 0,
/// synchronous completions: the defaults before issue 18's change), and the workers running, until the last handler has run, against BullMQ 6.7.0 (<see cref="BullMqScript"/>)
/// and Hangfire 1.8.25 + Hangfire.Redis.StackExchange 1.12.0. Every contender gets a fresh throwaway
/// <c>redis-server</c> (<see cref="ThrowawayRedisServer"/>) with the same settings. Jobs are enqueued one at a time, or
/// in batches of <see cref="Batch"/> (<c>EnqueueBatchAsync</c>, BullMQ's <c>addBulk</c>; Hangfire has none). Beside
/// them, not a peer, the ceiling of one awaited round trip per job (<see cref="BareRedisContender"/>), single only.
/// </summary>
internal sealed class RedisScenario : IAsyncDisposable
{
    /// <summary>The batch size of the batched producers.</summary>
    public const int Batch = 1_000;

    /// <summary>Jobs per run of AsyncQueue in batches: a few seconds at the 30,000 jobs/s target.</summary>
    public const int Jobs = 100_000;

    /// <summary>Jobs per run of AsyncQueue with one awaited <c>EnqueueAsync</c> per job (a round trip each).</summary>
    public const int SingleJobs = 20_000;

    /// <summary>Jobs per run of BullMQ, either way: a few seconds at its pace here.</summary>
    public const int BullMqJobs = 20_000;

    /// <summary>Jobs per run of Hangfire.Redis, much slower per job.</summary>
    public const int HangfireJobs = 2_000;

    private readonly AsyncQueueContender _contender;

    /// <param name="configuration">The server, as a StackExchange.Redis configuration string.</param>
    /// <param name="workers">The queue's <c>MaxConcurrency</c>.</param>
    /// <param name="strict">Whether the store runs with <c>LeaseAhead</c> 0 and synchronous completions rather than its defaults.</param>
    public RedisScenario(string configuration, int workers, bool strict = false)
    {
        _contender = new AsyncQueueContender((services, completion) =>
        {
            // A singleton handler, as in the SQLite and PostgreSQL scenarios: the store is what is measured.
            services.AddSingleton<IJobHandler<Job>>(new NoOpHandler(completion));
            services.AddJobQueue()
                .UseRedis(configuration, options =>
                {
                    if (strict)
                    {
                        options.LeaseAhead = 0;
                        options.AsynchronousCompletions = false;
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

    /// <summary>The job counts of one round.</summary>
    public readonly record struct Counts(int Single, int Batched, int BullMq, int Hangfire);

    /// <summary>
    /// One round: for each contender a fresh server started with <paramref name="settings"/>, one warm-up run and one
    /// measured run each way. Throws when <c>redis-server</c> is not installed.
    /// </summary>
    /// <param name="storeOnly">Whether to measure AsyncQueue.Redis at its defaults only (<c>--store-only</c>: an A/B of two builds of the store), not the strict opt-outs or the peers.</param>
    public static async Task<Result> MeasureAsync(int workers, Counts counts, string[] settings, bool storeOnly = false)
    {
        Measure.Result single;
        Measure.Result batched;
        Costs singleCosts;
        Costs batchedCosts;
        string version;
        await using (var server = await ThrowawayRedisServer.StartAsync(settings))
        {
            // INFO is an admin command to the client.
            using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
            version = connection.GetServers()[0].Version.ToString();
            await using var store = new RedisScenario(server.Configuration, workers);
            await store.StartAsync();
            (single, singleCosts) = await WarmThenCountAsync(connection, counts.Single, () => store.SingleAsync(counts.Single));
            (batched, batchedCosts) = await WarmThenCountAsync(connection, counts.Batched, () => store.BatchesAsync(counts.Batched));
        }

        if (storeOnly)
        {
            return new Result(version, single, batched, default, default, default, default, default) { SingleCosts = singleCosts, BatchedCosts = batchedCosts };
        }

        Measure.Result strictSingle;
        Measure.Result strictBatched;
        await using (var server = await ThrowawayRedisServer.StartAsync(settings))
        {
            await using var store = new RedisScenario(server.Configuration, workers, strict: true);
            await store.StartAsync();
            strictSingle = await WarmThenTimeAsync(counts.Single, () => store.SingleAsync(counts.Single));
            strictBatched = await WarmThenTimeAsync(counts.Batched, () => store.BatchesAsync(counts.Batched));
        }

        // The ceiling, not a peer (see the class): the producer's round trips alone, then end to end with its consumers.
        Measure.Result bareAlone;
        Measure.Result bare;
        Costs bareAloneCosts;
        Costs bareCosts;
        await using (var server = await ThrowawayRedisServer.StartAsync(settings))
        await using (var ceiling = new BareRedisContender(server.Configuration, workers))
        {
            using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
            await ceiling.ConnectAsync();
            (bareAlone, bareAloneCosts) = await WarmThenCountAsync(connection, counts.Single, () => ceiling.ProduceAloneAsync(counts.Single));
            await ceiling.StartAsync();
            (bare, bareCosts) = await WarmThenCountAsync(connection, counts.Single, () => Drive.SteadyAsync(ceiling, counts.Single));
        }

        // The script warms up and times itself; its Node process starting is not part of the figure.
        Measure.Result bullSingle;
        await using (var server = await ThrowawayRedisServer.StartAsync(settings))
        {
            bullSingle = await BullMqScript.MeasureAsync(server.Configuration, counts.BullMq, batched: false);
        }

        Measure.Result bullBatched;
        await using (var server = await ThrowawayRedisServer.StartAsync(settings))
        {
            bullBatched = await BullMqScript.MeasureAsync(server.Configuration, counts.BullMq, batched: true);
        }

        Measure.Result hangfire;
        await using (var server = await ThrowawayRedisServer.StartAsync(settings))
        await using (var peer = HangfireContender.OnRedis(server.Configuration, workers))
        {
            await peer.StartAsync();
            hangfire = await WarmThenTimeAsync(counts.Hangfire, () => Drive.SteadyAsync(peer, counts.Hangfire));
        }

        return new Result(version, single, batched, strictSingle, strictBatched, bullSingle, bullBatched, hangfire)
        {
            SingleCosts = singleCosts, BatchedCosts = batchedCosts, BareAlone = bareAlone, Bare = bare, BareAloneCosts = bareAloneCosts, BareCosts = bareCosts,
        };
    }

    /// <summary>
    /// As <see cref="WarmThenTimeAsync"/>, and what the measured run cost per job: CPU of this process and of
    /// <c>redis-server</c> (from <c>/proc</c>), script calls and wake-ups published (from <c>INFO commandstats</c>).
    /// </summary>
    private static async Task<(Measure.Result Result, Costs Costs)> WarmThenCountAsync(StackExchange.Redis.ConnectionMultiplexer connection, int jobs, Func<Task> body)
    {
        await body();
        var server = connection.GetServers()[0];
        var pid = int.Parse(server.Info("server").SelectMany(g => g).First(p => p.Key == "process_id").Value, CultureInfo.InvariantCulture);
        var cpu = new CpuMeter(pid);
        var (scripts, enqueues, leases, publishes) = Commands(server);
        var before = cpu.Read();
        var result = await Measure.TimeAsync(jobs, body);
        var after = cpu.Read();
        var (scriptsAfter, enqueuesAfter, leasesAfter, publishesAfter) = Commands(server);
        var (client, redis) = CpuMeter.PerJob(before, after, jobs);
        return (result, new Costs(
            client, redis, (double)(scriptsAfter - scripts) / jobs, (double)(enqueuesAfter - enqueues) / jobs, (double)(leasesAfter - leases) / jobs, (double)(publishesAfter - publishes) / jobs));
    }

    /// <summary>
    /// How many script calls (<c>EVALSHA</c> and <c>EVAL</c>) the server has run so far, of them enqueues (the enqueue
    /// script's one <c>INCRBY</c>), how many jobs the fetch script leased (its <c>HGETALL</c> per job), and how many
    /// <c>PUBLISH</c>es.
    /// </summary>
    private static (long Scripts, long Enqueues, long Leases, long Publishes) Commands(StackExchange.Redis.IServer server)
    {
        long scripts = 0, enqueues = 0, leases = 0, publishes = 0;
        foreach (var stat in server.Info("commandstats").SelectMany(g => g))
        {
            // cmdstat_evalsha: calls=N,usec=...
            var calls = long.Parse(stat.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture);
            switch (stat.Key)
            {
                case "cmdstat_evalsha" or "cmdstat_eval": scripts += calls; break;
                case "cmdstat_publish": publishes = calls; break;
                case "cmdstat_incrby": enqueues = calls; break;
                case "cmdstat_hgetall": leases = calls; break;
                default: break;
            }
        }

        return (scripts, enqueues, leases, publishes);
    }

    /// <summary>
    /// What a measured run of the store cost per job: CPU microseconds of this process and of Redis, script calls (of
    /// them enqueues; the rest are leases and completions, and now and then a heartbeat), the share of jobs leased by the
    /// fetch script (rather than by their enqueue), wake-ups published.
    /// </summary>
    public readonly record struct Costs(double ClientMicroseconds, double RedisMicroseconds, double ScriptCalls, double Enqueues, double Fetched, double Publishes)
    {
        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"CPU {ClientMicroseconds:F0} us client + {RedisMicroseconds:F0} us Redis, {ScriptCalls:F2} script calls ({Enqueues:F2} enqueue), {Fetched:F2} leased by the fetch script, {Publishes:F2} PUBLISH per job");
    }

    private static async Task<Measure.Result> WarmThenTimeAsync(int jobs, Func<Task> body)
    {
        await body();
        return await Measure.TimeAsync(jobs, body);
    }

    /// <summary>One round of the Redis scenario: every contender once, each on a fresh server with the same settings.</summary>
    public readonly record struct Result(
        string Version, Measure.Result Single, Measure.Result Batched, Measure.Result StrictSingle, Measure.Result StrictBatched,
        Measure.Result BullMqSingle, Measure.Result BullMqBatched, Measure.Result Hangfire)
    {
        /// <summary>Gets what the store's single run at its defaults cost per job.</summary>
        public Costs SingleCosts { get; init; }

        /// <summary>Gets what the store's batched run at its defaults cost per job.</summary>
        public Costs BatchedCosts { get; init; }

        /// <summary>Gets the bare loop's producer alone, no consumer running: one awaited script call per job.</summary>
        public Measure.Result BareAlone { get; init; }

        /// <summary>Gets the bare loop end to end, its two consumer loops running.</summary>
        public Measure.Result Bare { get; init; }

        /// <summary>Gets what the bare producer alone cost per job.</summary>
        public Costs BareAloneCosts { get; init; }

        /// <summary>Gets what the bare loop end to end cost per job.</summary>
        public Costs BareCosts { get; init; }

        /// <summary>One line per contender, then the ratios against the targets, each line starting with <paramref name="prefix"/>.</summary>
        public IEnumerable<string> Describe(string prefix, Counts counts)
        {
            yield return Line(prefix, $"AsyncQueue.Redis single EnqueueAsync ({counts.Single:N0} jobs) {Single.JobsPerSecond:N0} jobs/s; batches of {Batch:N0} ({counts.Batched:N0} jobs) {Batched.JobsPerSecond:N0} jobs/s (target 30,000)");
            yield return Line(prefix, $"  per single job: {SingleCosts}, {Single.WakeUpsPerThousandJobs / 1000:F1} thread-pool work items, {Single.BytesPerJob:N0} B allocated");
            yield return Line(prefix, $"  per batched job: {BatchedCosts}, {Batched.WakeUpsPerThousandJobs / 1000:F2} thread-pool work items, {Batched.BytesPerJob:N0} B allocated");
            if (Hangfire.JobsPerSecond == 0)
            {
                // --store-only: the store at its defaults, nothing to compare with.
                yield break;
            }

            yield return Line(prefix, $"AsyncQueue.Redis with LeaseAhead 0 + synchronous completions: single ({counts.Single:N0} jobs) {StrictSingle.JobsPerSecond:N0} jobs/s; batches of {Batch:N0} ({counts.Batched:N0} jobs) {StrictBatched.JobsPerSecond:N0} jobs/s (target 30,000)");
            yield return Line(prefix, $"{BullMqScript.Label} single queue.add ({counts.BullMq:N0} jobs) {BullMqSingle.JobsPerSecond:N0} jobs/s; addBulk of {Batch:N0} ({counts.BullMq:N0} jobs) {BullMqBatched.JobsPerSecond:N0} jobs/s");
            yield return Line(prefix, $"{HangfireContender.RedisLabel} single Enqueue ({counts.Hangfire:N0} jobs) {Hangfire.JobsPerSecond:N0} jobs/s (no batch enqueue in free Hangfire)");
            yield return Line(prefix, $"ratios, LeaseAhead 0 + synchronous completions: single {StrictSingle.JobsPerSecond / BullMqSingle.JobsPerSecond:F2}x BullMQ, {StrictSingle.JobsPerSecond / Hangfire.JobsPerSecond:F1}x Hangfire.Redis; batched {StrictBatched.JobsPerSecond / BullMqBatched.JobsPerSecond:F2}x BullMQ addBulk (target 2x), {StrictBatched.JobsPerSecond / Hangfire.JobsPerSecond:F1}x Hangfire.Redis single (target 20x)");
            yield return Line(prefix, $"{BareRedisContender.Label}: one awaited EVALSHA (RPUSH) per job ({counts.Single:N0} jobs), producer alone {BareAlone.JobsPerSecond:N0} jobs/s; end to end with one BLMPOP consumer loop per worker {Bare.JobsPerSecond:N0} jobs/s");
            yield return Line(prefix, $"  per job, producer alone: CPU {BareAloneCosts.ClientMicroseconds:F0} us client + {BareAloneCosts.RedisMicroseconds:F0} us Redis, {BareAloneCosts.ScriptCalls:F2} script calls, {BareAlone.WakeUpsPerThousandJobs / 1000:F1} thread-pool work items, {BareAlone.BytesPerJob:N0} B allocated; end to end: CPU {BareCosts.ClientMicroseconds:F0} us client + {BareCosts.RedisMicroseconds:F0} us Redis, {BareCosts.ScriptCalls:F2} script calls, {Bare.WakeUpsPerThousandJobs / 1000:F1} work items, {Bare.BytesPerJob:N0} B");
            yield return Line(prefix, $"ratios, the ceiling (not a peer; end to end, producer alone in brackets): bare / Hangfire.Redis {Bare.JobsPerSecond / Hangfire.JobsPerSecond:F1}x ({BareAlone.JobsPerSecond / Hangfire.JobsPerSecond:F1}x), bare / BullMQ add {Bare.JobsPerSecond / BullMqSingle.JobsPerSecond:F2}x ({BareAlone.JobsPerSecond / BullMqSingle.JobsPerSecond:F2}x), AsyncQueue single / bare {Single.JobsPerSecond / Bare.JobsPerSecond:F2}x ({Single.JobsPerSecond / BareAlone.JobsPerSecond:F2}x)");
            yield return Line(prefix, $"ratios: single {Single.JobsPerSecond / BullMqSingle.JobsPerSecond:F2}x BullMQ, {Single.JobsPerSecond / Hangfire.JobsPerSecond:F1}x Hangfire.Redis; batched {Batched.JobsPerSecond / BullMqBatched.JobsPerSecond:F2}x BullMQ addBulk (target 2x), {Batched.JobsPerSecond / Hangfire.JobsPerSecond:F1}x Hangfire.Redis single (target 20x)");
        }

        private static string Line(string prefix, FormattableString text) => prefix + text.ToString(CultureInfo.InvariantCulture);
    }
}
