using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--redis [ROUNDS] [--fsync always|everysec|both] [--jobs N] [--store-only]</c>: the Redis scenario alone (issue 18), ROUNDS times (default
/// 3), each contender on a fresh throwaway <c>redis-server</c> with the append-only file fsynced on every write
/// (<c>always</c>: no accepted job lost when Redis crashes) and/or once a second (<c>everysec</c>, the default: the
/// usual production setting); one line per contender per round, so the spread on a shared machine shows. <c>--jobs N</c>
/// caps every contender's job count at N (for <c>always</c>, whose per-write flush makes the default counts take minutes).
/// <c>--store-only</c> measures only AsyncQueue.Redis at its defaults (for an A/B of two builds of the store). Without
/// it, after the rounds, the medians (ranges) of the single-enqueue figures and of the bare round-trip loop's ratios.
/// </summary>
internal static class RedisRun
{
    private const int Workers = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--redis");
        var rounds = at + 1 < args.Length && !args[at + 1].StartsWith("--", StringComparison.Ordinal) ? Cli.Int(args[at + 1], "--redis ROUNDS") : 3;
        string[] modes = Cli.Option(args, "--fsync") switch
        {
            null or "everysec" => ["everysec"],
            "always" => ["always"],
            "both" => ["everysec", "always"],
            var other => throw new UsageException($"--fsync must be always, everysec or both, not '{other}'."),
        };

        if (!File.Exists(ThrowawayRedisServer.Binary))
        {
            output.WriteLine("Redis scenario NOT RUN: " + ThrowawayRedisServer.MissingMessage);
            return 1;
        }

        var storeOnly = args.Contains("--store-only");
        if (!storeOnly)
        {
            await BullMqScript.EnsureInstalledAsync(output);
        }

        var cap = Cli.Option(args, "--jobs") is { } jobs ? Cli.Int(jobs, "--jobs") : int.MaxValue;
        var counts = new RedisScenario.Counts(
            Math.Min(cap, RedisScenario.SingleJobs), Math.Min(cap, RedisScenario.Jobs), Math.Min(cap, RedisScenario.BullMqJobs), Math.Min(cap, RedisScenario.HangfireJobs));
        output.WriteLine($"Redis scenario: {Workers} workers, no-op handler, each contender on a fresh redis-server (appendonly yes, no RDB snapshots), one warm-up and one measured run each way; {Environment.ProcessorCount} cores, .NET {Environment.Version}.");
        var results = modes.ToDictionary(fsync => fsync, _ => new List<RedisScenario.Result>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var fsync in modes)
            {
                var result = await RedisScenario.MeasureAsync(Workers, counts, ["--appendfsync", fsync], storeOnly);
                results[fsync].Add(result);
                var prefix = string.Create(CultureInfo.InvariantCulture, $"round {round}, Redis {result.Version} appendfsync {fsync}: ");
                foreach (var line in result.Describe(prefix, counts))
                {
                    output.WriteLine(line);
                }
            }
        }

        if (!storeOnly)
        {
            foreach (var (fsync, all) in results)
            {
                Summarize(output, fsync, all);
            }
        }

        return 0;
    }

    /// <summary>Medians (ranges) over the rounds of one appendfsync mode: the single-enqueue figures and the bare loop's ratios (issue 18's single targets).</summary>
    private static void Summarize(TextWriter output, string fsync, List<RedisScenario.Result> all)
    {
        string Spread(Func<RedisScenario.Result, double> value, string format, string unit = "")
        {
            var values = all.Select(value).ToArray();
            var (median, min, max) = (Interleaved.Median(values), values.Min(), values.Max());
            return median.ToString(format, CultureInfo.InvariantCulture) + unit + " (" + min.ToString(format, CultureInfo.InvariantCulture) + "-" + max.ToString(format, CultureInfo.InvariantCulture) + unit + ")";
        }

        output.WriteLine($"appendfsync {fsync}, {all.Count} rounds, median (range):");
        output.WriteLine($"  jobs/s single: AsyncQueue.Redis {Spread(r => r.Single.JobsPerSecond, "N0")}, BullMQ add {Spread(r => r.BullMqSingle.JobsPerSecond, "N0")}, Hangfire.Redis {Spread(r => r.Hangfire.JobsPerSecond, "N0")}");
        output.WriteLine($"  {BareRedisContender.Label}: producer alone {Spread(r => r.BareAlone.JobsPerSecond, "N0")}, end to end {Spread(r => r.Bare.JobsPerSecond, "N0")} jobs/s");
        output.WriteLine($"  end to end: bare / Hangfire.Redis {Spread(r => r.Bare.JobsPerSecond / r.Hangfire.JobsPerSecond, "F1", "x")} (the store's target 20x), bare / BullMQ add {Spread(r => r.Bare.JobsPerSecond / r.BullMqSingle.JobsPerSecond, "F2", "x")} (target 2x), AsyncQueue single / bare {Spread(r => r.Single.JobsPerSecond / r.Bare.JobsPerSecond, "F2", "x")}");
        output.WriteLine($"  producer alone: bare / Hangfire.Redis {Spread(r => r.BareAlone.JobsPerSecond / r.Hangfire.JobsPerSecond, "F1", "x")}, bare / BullMQ add {Spread(r => r.BareAlone.JobsPerSecond / r.BullMqSingle.JobsPerSecond, "F2", "x")}, AsyncQueue single / bare {Spread(r => r.Single.JobsPerSecond / r.BareAlone.JobsPerSecond, "F2", "x")}");
    }
}
