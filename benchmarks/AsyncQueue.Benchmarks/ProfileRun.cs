using System.Diagnostics;
using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;
using AsyncQueue.Benchmarks.Scenarios;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// <c>--profile SCENARIO [CONTENDER] [SECONDS]</c>: runs one scenario in a loop for a profiler to attach to, e.g.
/// <c>dotnet-trace collect --profile cpu-sampling -- dotnet AsyncQueue.Benchmarks.dll --profile backlog AsyncQueue 20</c>.
/// SCENARIO is enqueue, backlog, steady or sqlite (the SQLite store at its defaults, single enqueues and batches of 1,000;
/// CONTENDER is ignored); CONTENDER a <see cref="ContenderKind"/> name (default AsyncQueue).
/// <c>--measure SCENARIO CONTENDER [WORKERS] [JOBS] [RUNS] [--without PART,...]</c> prints the best throughput of RUNS
/// runs instead: a quick A/B check of an engine change; <c>--without</c> switches parts of the full pipeline off
/// (<see cref="FullPipeline.Parts"/>), to measure what each costs.
/// </summary>
internal static class ProfileRun
{
    public static async Task<int> MeasureAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--measure");
        string Arg(int i, string fallback) => args.Length > at + i ? args[at + i] : fallback;
        var scenario = Cli.Scenario(Arg(1, "steady"), "--measure SCENARIO", "enqueue", "backlog", "steady", "sqlite");
        var kind = ContenderFactory.Parse(Arg(2, nameof(ContenderKind.AsyncQueue)));
        var workers = Cli.Int(Arg(3, "2"), "--measure WORKERS");
        var jobs = Cli.Int(Arg(4, "1000000"), "--measure JOBS");
        var runs = Cli.Int(Arg(5, "5"), "--measure RUNS");
        FullPipeline.ReadWithout(args);
        if (scenario == "sqlite")
        {
            // The SQLite store at its defaults, a steady producer, single enqueues then batches: JOBS each way.
            var (single, batched) = await SqliteScenario.MeasureAsync(workers, jobs, jobs, runs);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sqlite {workers}: single {single.JobsPerSecond:F0} jobs/s, batched {batched.JobsPerSecond:F0} jobs/s (best of {runs} x {jobs:N0})"));
            return 0;
        }

        Measure.Result result;
        switch (scenario)
        {
            case "enqueue":
                result = await Measure.EnqueueAsync(kind, workers, jobs, runs);
                break;
            case "backlog":
                result = await Measure.BacklogAsync(kind, workers, jobs, runs);
                break;
            default:
                await using (var contender = ContenderFactory.Create(kind, workers))
                {
                    await contender.StartAsync();
                    result = await Measure.SteadyAsync(contender, jobs, runs);
                }

                break;
        }

        var label = FullPipeline.Without.Count == 0 ? ContenderFactory.Label(kind) : $"{ContenderFactory.Label(kind)} without {string.Join(",", FullPipeline.Without)}";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{scenario} {label} {workers}: {result.JobsPerSecond / 1e6:F3} M jobs/s, {result.BytesPerJob:F0} B/job, {result.WakeUpsPerThousandJobs:F2} wake-ups per 1,000 jobs (best of {runs} x {jobs:N0})"));
        return 0;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--profile");
        var scenario = args.Length > at + 1 ? Cli.Scenario(args[at + 1], "--profile SCENARIO", "enqueue", "backlog", "steady") : "steady";
        var kind = args.Length > at + 2 ? ContenderFactory.Parse(args[at + 2]) : ContenderKind.AsyncQueue;
        var seconds = args.Length > at + 3 ? Cli.Double(args[at + 3], "--profile SECONDS") : 20;
        const int Workers = 2;
        var jobs = JobCounts.For(kind, 10);

        var clock = Stopwatch.StartNew();
        var burnDown = TimeSpan.Zero;
        var rounds = 0;
        long total = 0;
        IContender? steady = null;
        if (scenario == "steady")
        {
            steady = ContenderFactory.Create(kind, Workers);
            await steady.StartAsync();
        }

        while (clock.Elapsed.TotalSeconds < seconds)
        {
            switch (scenario)
            {
                case "enqueue":
                    await using (var contender = ContenderFactory.Create(kind, 1))
                    {
                        await Drive.ProduceAsync(contender, jobs, 1);
                    }

                    break;
                case "backlog":
                    await using (var contender = ContenderFactory.Create(kind, Workers))
                    {
                        var done = await Drive.PrefillAsync(contender, jobs);
                        var start = Stopwatch.GetTimestamp();
                        await Drive.BurnDownAsync(contender, done);
                        burnDown += Stopwatch.GetElapsedTime(start);
                    }

                    break;
                default:
                    await Drive.SteadyAsync(steady!, jobs);
                    break;
            }

            rounds++;
            total += jobs;
        }

        if (steady is not null)
        {
            await steady.DisposeAsync();
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile {scenario} {kind}: {rounds} rounds, {total:N0} jobs in {clock.Elapsed.TotalSeconds:F1} s ({total / clock.Elapsed.TotalSeconds / 1e6:F2} M jobs/s, setup included)"));
        if (burnDown > TimeSpan.Zero)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  burn-down alone: {total / burnDown.TotalSeconds / 1e6:F2} M jobs/s"));
        }
        return 0;
    }
}
