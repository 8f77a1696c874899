using System.Diagnostics;
using System.Globalization;
using System.Text;
using AsyncQueue.Benchmarks.Contenders;
using AsyncQueue.Benchmarks.Scenarios;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// <c>--quick</c>: every scenario once, briefly (well under a minute on 2 cores), one line per scenario with each
/// contender's throughput ratio to Channel&lt;T&gt;. A smoke test that the benchmarks build and run: it asserts
/// nothing about speed, and its short runs are noisier than the full BenchmarkDotNet run.
/// </summary>
/// <remarks>
/// The in-process contenders run first, each warmed up by several runs, and the peers last: loading and compiling
/// the peers' code keeps the JIT from promoting the engine's methods to optimized code for a while.
/// </remarks>
internal static class QuickRun
{
    private const int Workers = 2;
    private const int Divisor = 10;
    private const int Runs = 3;
    private const int SqliteSingleJobs = 2_000;
    private const int SqliteBatchedJobs = 10_000;
    private const int PostgreSqlSingleJobs = 500;
    private const int PostgreSqlBatchedJobs = 3_000;
    private const int PostgreSqlHangfireJobs = 100;

    private static readonly ContenderKind[] EnqueueContenders = [ContenderKind.AsyncQueue, ContenderKind.ChannelUnbounded, ContenderKind.ConcurrentQueueSemaphore];
    private static readonly ContenderKind[] BacklogContenders = [ContenderKind.AsyncQueue, ContenderKind.AsyncQueuePipeline, ContenderKind.ChannelUnbounded, ContenderKind.ConcurrentQueueSemaphore];
    private static readonly ContenderKind[] EnqueuePeers = [ContenderKind.Coravel, ContenderKind.Hangfire];

    public static async Task<int> RunAsync(TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var jobs = JobCounts.InProcess / Divisor;
        output.WriteLine($"AsyncQueue benchmarks, quick mode: {jobs:N0} jobs per in-process run (peers fewer), best of {Runs}, {Workers} workers; {Environment.ProcessorCount} cores, .NET {Environment.Version}.");
        output.WriteLine("Each line: throughput (and bytes allocated per job, the 32-byte job included) and the ratio to Channel<T> unbounded; higher is better. Peers: throughput only, no ratio (too few jobs and one run: see --interleave).");

        // In-process contenders first (see remarks), then the peers; the lines are printed in scenario order.
        var enqueue = new Dictionary<int, List<(ContenderKind, Measure.Result)>>();
        foreach (var producers in new[] { 1, 2 })
        {
            enqueue[producers] = [];
            foreach (var kind in EnqueueContenders)
            {
                enqueue[producers].Add((kind, await Measure.EnqueueAsync(kind, producers, jobs, Runs)));
            }
        }

        var backlog = new List<(ContenderKind, Measure.Result)>();
        foreach (var kind in BacklogContenders)
        {
            backlog.Add((kind, await Measure.BacklogAsync(kind, Workers, jobs, Runs)));
        }

        var steady = new List<(ContenderKind, Measure.Result)>();
        foreach (var kind in ContenderFactory.InProcess)
        {
            steady.Add((kind, await SteadyAsync(kind, jobs, Runs)));
        }

        var failure = new List<(ContenderKind, FailureScenario.Result)>
        {
            (ContenderKind.AsyncQueue, await FailureScenario.MeasureAsync(FailureScenario.CreateAsyncQueue(Workers), jobs, Runs)),
            (ContenderKind.ChannelUnbounded, await FailureScenario.MeasureAsync(FailureScenario.CreateChannel(Workers), jobs, Runs)),
        };
        var (delayed, delayedChannel) = await DelayedScenario.MeasureAsync(Workers, DelayedScenario.Jobs, Runs);
        var (sqliteSingle, sqliteBatched) = await SqliteScenario.MeasureAsync(Workers, SqliteSingleJobs, SqliteBatchedJobs, runs: 2);
        var postgreSql = ThrowawayPostgreSqlServer.FindBinaries() is null
            ? "NOT RUN (skipped in quick mode): " + ThrowawayPostgreSqlServer.MissingMessage
            : (await PostgreSqlScenario.MeasureAsync(Workers, PostgreSqlSingleJobs, PostgreSqlBatchedJobs, PostgreSqlHangfireJobs, runs: 1)).Describe(PostgreSqlSingleJobs, PostgreSqlBatchedJobs, PostgreSqlHangfireJobs, ratios: false);

        var latency = await LatencyScenario.RunAsync([Workers], TimeSpan.FromSeconds(0.5), jobs, peers: false, Divisor, TextWriter.Null);

        foreach (var producers in new[] { 1, 2 })
        {
            foreach (var kind in EnqueuePeers)
            {
                enqueue[producers].Add((kind, await Measure.EnqueueAsync(kind, producers, JobCounts.For(kind, Divisor), runs: 1)));
            }
        }

        foreach (var kind in ContenderFactory.Peers)
        {
            steady.Add((kind, await SteadyAsync(kind, JobCounts.For(kind, Divisor), runs: 1)));
        }

        foreach (var producers in new[] { 1, 2 })
        {
            output.WriteLine(Line($"1 enqueue only, {producers} producer(s)", enqueue[producers]));
        }

        output.WriteLine(Line($"2 end-to-end backlog, {Workers} workers", backlog.Where(r => r.Item1 != ContenderKind.AsyncQueuePipeline)));
        output.WriteLine(Line($"2 end-to-end steady, {Workers} workers", steady.Where(r => r.Item1 != ContenderKind.AsyncQueuePipeline)));
        output.WriteLine(Line(
            $"3 full pipeline (scope+retry+key+metrics), {Workers}w",
            [.. backlog.Where(r => r.Item1 is ContenderKind.AsyncQueuePipeline or ContenderKind.ChannelUnbounded).Select(r => (r.Item1, r.Item2, (string?)"backlog")),
             .. steady.Where(r => r.Item1 is ContenderKind.AsyncQueuePipeline or ContenderKind.ChannelUnbounded).Select(r => (r.Item1, r.Item2, (string?)"steady"))]));
        output.WriteLine(Line($"4 failure-heavy (10% throw, 0-delay retry), {Workers}w", failure.Select(r => (r.Item1, r.Item2.Jobs)))
            + string.Create(CultureInfo.InvariantCulture, $"; retries/s: AsyncQueue {failure[0].Item2.RetriesPerSecond / 1e3:F1}k, Channel<T> in place {failure[1].Item2.RetriesPerSecond / 1e3:F1}k"));
        output.WriteLine(Line($"5 delayed jobs (100,000 due at once), {Workers}w", [(ContenderKind.AsyncQueue, delayed), (ContenderKind.ChannelUnbounded, delayedChannel)]));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"S SQLite file store end-to-end, " + Workers + "w",-46}  single EnqueueAsync ({SqliteSingleJobs:N0} jobs) {sqliteSingle.JobsPerSecond:N0} jobs/s; batches of {SqliteScenario.Batch:N0} ({SqliteBatchedJobs:N0} jobs) {sqliteBatched.JobsPerSecond:N0} jobs/s (target 20,000, issue 16)"));

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"P PostgreSQL store end-to-end, " + Workers + "w",-46}  ") + postgreSql);

        var reference = latency.Single(r => r.Contender == ContenderFactory.Label(ContenderKind.ChannelUnbounded));
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{"6 hand-off latency p50/p99/p99.9 us, " + Workers + "w",-46}  at {reference.Rate / 1e6:F2}M jobs/s: "));
        line.AppendJoin("; ", latency.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Contender} {r.P50:F1}/{r.P99:F1}/{r.P999:F1}{(r == reference ? string.Empty : $" = p50 {r.P50 / reference.P50:F2}x")}")));
        output.WriteLine(line.ToString());

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"quick mode done in {clock.Elapsed.TotalSeconds:F1} s (latency ratios: lower is better)"));
        return 0;
    }

    private static async Task<Measure.Result> SteadyAsync(ContenderKind kind, int jobs, int runs)
    {
        await using var contender = ContenderFactory.Create(kind, Workers);
        await contender.StartAsync();
        return await Measure.SteadyAsync(contender, jobs, runs);
    }

    private static string Line(string scenario, IEnumerable<(ContenderKind Kind, Measure.Result Result)> results) =>
        Line(scenario, results.Select(r => (r.Kind, r.Result, (string?)null)));

    private static string Line(string scenario, IEnumerable<(ContenderKind Kind, Measure.Result Result, string? Note)> results)
    {
        var parts = new List<string>();
        foreach (var group in results.GroupBy(r => r.Note))
        {
            var prefix = group.Key is null ? string.Empty : group.Key + ": ";
            var reference = group.First(r => r.Kind == ContenderKind.ChannelUnbounded).Result;
            foreach (var (kind, result, _) in group.Where(r => r.Kind != ContenderKind.ChannelUnbounded))
            {
                // A peer's ratio from a tenth of the jobs and one run is dominated by its fixed costs (Coravel's 1 s
                // tick), so quick mode shows its throughput only; the interleaved check gives the ratios.
                var ratio = ContenderFactory.Peers.Contains(kind) ? string.Empty : " = " + Ratio(result.JobsPerSecond / reference.JobsPerSecond);
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}{ContenderFactory.Label(kind)} {Describe(kind, result)}{ratio}"));
            }

            parts.Add($"{prefix}Channel<T> {Describe(ContenderKind.ChannelUnbounded, reference)}");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{scenario,-46}  ") + string.Join("; ", parts);
    }

    private static string Describe(ContenderKind kind, Measure.Result result)
    {
        var rate = result.JobsPerSecond >= 1e6
            ? string.Create(CultureInfo.InvariantCulture, $"{result.JobsPerSecond / 1e6:F2}M/s")
            : string.Create(CultureInfo.InvariantCulture, $"{result.JobsPerSecond / 1e3:F1}k/s");

        // Bytes per job are meaningful in-process only: a peer's host allocates on its own timers as well.
        return ContenderFactory.Peers.Contains(kind) ? rate : string.Create(CultureInfo.InvariantCulture, $"{rate} {result.BytesPerJob:F0}B");
    }

    /// <summary>A ratio as "0.75x", or "1/40x" below 0.1.</summary>
    internal static string Ratio(double ratio) => ratio >= 0.1
        ? string.Create(CultureInfo.InvariantCulture, $"{ratio:F2}x")
        : string.Create(CultureInfo.InvariantCulture, $"1/{1 / ratio:F0}x");
}
