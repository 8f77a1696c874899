using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--redis [ROUNDS] [--fsync always|everysec|both] [--jobs N] [--store-only]</c>: the Redis scenario alone (issue 18), ROUNDS times (default
/// 3), each contender on a fresh throwaway <c>redis-server</c> with the append-only file fsynced on every write
/// (<c>always</c>: no accepted job lost when Redis crashes) and/or once a second (<c>everysec</c>, the default: the
/// usual production setting); one line per contender per round, so the spread on a shared machine shows. <c>--jobs N</c>
/// caps every contender's job count at N (for <c>always</c>, whose per-write flush makes the default counts take minutes).
/// <c>--store-only</c> measures only AsyncQueue.Redis at its defaults (for an A/B of two builds of the store).
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
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var fsync in modes)
            {
                var result = await RedisScenario.MeasureAsync(Workers, counts, ["--appendfsync", fsync], storeOnly);
                var prefix = string.Create(CultureInfo.InvariantCulture, $"round {round}, Redis {result.Version} appendfsync {fsync}: ");
                foreach (var line in result.Describe(prefix, counts))
                {
                    output.WriteLine(line);
                }
            }
        }

        return 0;
    }
}
