using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Tests.Crash;

/// <summary>
/// Worker processes (tests/AsyncQueue.TestWorker, command <c>work</c>) sharing one key prefix on a throwaway Redis
/// server, each appending "number attempt" to its own results file before its handler returns; and what the tests ask
/// of them: enqueue from this process, count what is left in Redis, merge the results.
/// </summary>
internal sealed class WorkerFleet(ThrowawayRedisServer server, string folder, string prefix)
{
    public const int Concurrency = 4;
    public const int FetchBatch = 32;

    public ChildProcess[] Start(int processes, int leaseMilliseconds, int delayMilliseconds) =>
        [.. Enumerable.Range(0, processes).Select(i => ChildProcess.Start(
            "work",
            "--redis", server.Configuration,
            "--prefix", prefix,
            "--results", ResultsPath(i),
            "--delay-ms", delayMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--concurrency", Concurrency.ToString(CultureInfo.InvariantCulture),
            "--fetch-batch", FetchBatch.ToString(CultureInfo.InvariantCulture),
            "--lease-ms", leaseMilliseconds.ToString(CultureInfo.InvariantCulture)))];

    public string ResultsPath(int child) => Path.Combine(folder, $"child{child}.txt");

    public int HandledBy(int child) => WorkerResults.Read(ResultsPath(child)).Values.Sum(r => r.Count);

    /// <summary>Once every child is ready, enqueues jobs 0..count-1 from this process in batches of 1,000; every one must be accepted.</summary>
    public async Task EnqueueAsync(ChildProcess[] children, int count)
    {
        foreach (var child in children)
        {
            await child.WaitForMarkerAsync("ready");
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddJobQueue()
            .AddHandler<DurableJob, EnqueueOnlyHandler>()
            .UseRedis(server.Configuration, options => options.KeyPrefix = prefix);
        await using var provider = services.BuildServiceProvider();
        var queue = provider.GetRequiredService<IJobQueue>();
        for (var start = 0; start < count; start += 1_000)
        {
            var results = await queue.EnqueueBatchAsync(Enumerable.Range(start, Math.Min(1_000, count - start)).Select(n => new DurableJob(n)));
            Assert.All(results, r => Assert.Equal(EnqueueStatus.Accepted, r.Status));
        }
    }

    /// <summary>Jobs not finished: due, isolated, scheduled or leased, in every queue of the prefix.</summary>
    public async Task<long> JobsLeftAsync() => await SumAsync(":ready", ":iso", ":scheduled", ":leased");

    /// <summary>Dead letters of every queue of the prefix.</summary>
    public async Task<long> DeadLettersAsync() => await SumAsync(":dead:*");

    private async Task<long> SumAsync(params string[] suffixes)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        var redis = connection.GetServers()[0];
        var db = connection.GetDatabase();
        long total = 0;
        foreach (var suffix in suffixes)
        {
            await foreach (var key in redis.KeysAsync(pattern: "{" + prefix + ":*}" + suffix))
            {
                total += await db.SortedSetLengthAsync(key);
            }
        }

        return total;
    }

    public Dictionary<int, List<int>>[] Results(int processes) => [.. Enumerable.Range(0, processes).Select(i => WorkerResults.Read(ResultsPath(i)))];

    /// <summary>
    /// Runs <paramref name="scenario"/>, stops the children it returns (those still alive), and disposes every child
    /// whatever happens; returns each child's error output.
    /// </summary>
    public static async Task<string[]> RunAsync(ChildProcess[] children, Func<Task<ChildProcess[]>> scenario)
    {
        try
        {
            foreach (var child in await scenario())
            {
                await child.StopAsync();
            }

            return [.. children.Select(c => c.Errors)];
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }
}
