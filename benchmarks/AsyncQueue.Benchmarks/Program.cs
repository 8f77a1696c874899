using AsyncQueue.Benchmarks;
using AsyncQueue.Benchmarks.Scenarios;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --quick        every scenario briefly, one line each (CI smoke test)
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --full         BenchmarkDotNet (scenarios 1-5, SQLite, PostgreSQL), then the latency scenario (6)
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --filter '*Steady*'   any BenchmarkDotNet arguments
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --latency [--workers N] [--rate JOBS_PER_S] [--no-peers]
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --allocations AsyncQueue steady     bytes per job by type
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --profile steady AsyncQueue 20      a loop for dotnet-trace
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --measure steady AsyncQueue 2       best of 5 runs, for A/B checks
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --measure backlog AsyncQueuePipeline 1 1000000 3 --without scope,metrics   what a pipeline part costs
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --interleave [--rounds N] [--workers N] [--no-peers] [--part memory|durable] [--without PART,...]   the headline: contenders taking turns in one process, markdown tables (the memory part includes the full pipeline's hand-built ceiling)
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --postgresql 3 [--commit sync|async|both] [--server CONNECTION_STRING]   PostgreSQL store vs Hangfire.PostgreSql
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --postgresql-scale 10 [--chunk 50000] [--statements]   PostgreSQL speed as work grows
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --rabbitmq 5 [--jobs N] [--single N] [--prefetch N] [--only LABEL] AsyncQueue.RabbitMQ vs MassTransit and Wolverine on RabbitMQ, one broker
// dotnet run -c Release --project benchmarks/AsyncQueue.Benchmarks -- --redis 3 [--fsync always|everysec|both] [--jobs N] [--store-only]   Redis store vs BullMQ 6.7.0 (Node) and Hangfire.Redis, and a bare StackExchange.Redis loop (the ceiling)
// See docs/benchmarks.md.
// --rate N: offer N jobs/s instead of half the lowest peak (to explore the curve); --workers N: one worker count.
double? rate;
int[] workers;
try
{
    rate = Cli.Option(args, "--rate") is { } offered ? Cli.Double(offered, "--rate") : null;
    workers = Cli.Option(args, "--workers") is { } count ? [Cli.Int(count, "--workers")] : [1, 2, 4];
    if (await RunModeAsync(args) is int exitCode)
    {
        return exitCode;
    }
}
catch (UsageException ex)
{
    // A mistyped command line: say what was wrong instead of a stack trace.
    Console.Error.WriteLine($"AsyncQueue.Benchmarks: {ex.Message} The modes and their arguments are listed in docs/benchmarks.md.");
    return 2;
}

var full = args.Contains("--full");
var failed = false;
if (!args.Contains("--latency"))
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(full ? ["--filter", "*"] : args, BenchmarkConfig.Create());
    failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
    if (!full)
    {
        return failed ? 1 : 0;
    }
}

var rows = await LatencyScenario.RunAsync(workers, TimeSpan.FromSeconds(2), JobCounts.InProcess / 2, peers: !args.Contains("--no-peers"), peerDivisor: 4, Console.Out, rate);
var path = Path.Combine("BenchmarkDotNet.Artifacts", "results", "AsyncQueue.Benchmarks.Latency-report.csv");
LatencyScenario.WriteCsv(rows, path);
Console.WriteLine($"latency results: {Path.GetFullPath(path)}");
return failed ? 1 : 0;

// The modes other than BenchmarkDotNet's; null when none was asked for.
static async Task<int?> RunModeAsync(string[] args)
{
    if (args.Contains("--quick"))
    {
        return await QuickRun.RunAsync(Console.Out);
    }

    if (args.Contains("--allocations"))
    {
        return await AllocationProfile.RunAsync(args, Console.Out);
    }

    if (args.Contains("--measure"))
    {
        return await ProfileRun.MeasureAsync(args, Console.Out);
    }

    if (args.Contains("--interleave"))
    {
        return await Interleaved.RunAsync(args, Console.Out);
    }

    if (args.Contains("--postgresql-scale"))
    {
        return await PostgreSqlScale.RunAsync(args, Console.Out);
    }

    if (args.Contains("--postgresql"))
    {
        return await PostgreSqlRun.RunAsync(args, Console.Out);
    }

    if (args.Contains("--rabbitmq"))
    {
        return await RabbitMqRun.RunAsync(args, Console.Out);
    }

    if (args.Contains("--redis"))
    {
        return await RedisRun.RunAsync(args, Console.Out);
    }

    if (args.Contains("--profile"))
    {
        return await ProfileRun.RunAsync(args, Console.Out);
    }

    return null;
}
