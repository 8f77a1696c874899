using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;
using Perfolizer.Metrology;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// The full run's configuration. Every invocation runs a whole batch of jobs (0.1 s to a few seconds), so the
/// monitoring strategy fits: one invocation per iteration, no pilot stage, 2 warm-up and 15 measured iterations, one
/// process per benchmark. The CSV report carries plain numbers in fixed units for tools/bench_chart.py.
/// </summary>
/// <remarks>
/// Why 15: on a shared 2-core machine the steady scenario's iterations are bimodal, either fast or several times
/// slower, for Channel&lt;T&gt; as much as for the engine; with 5 iterations the mean depended on how many of each a run
/// happened to draw.
/// </remarks>
internal static class BenchmarkConfig
{
    public static IConfig Create() => ManualConfig.CreateEmpty()
        .AddColumnProvider(DefaultColumnProviders.Instance)
        .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
        .AddJob(BenchmarkDotNet.Jobs.Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(15)
            .WithId("Monitoring15"))
        .AddColumn(StatisticColumn.OperationsPerSecond)
        .AddExporter(MarkdownExporter.GitHub)
        .AddExporter(new CsvExporter(
            CsvSeparator.Comma,
            new SummaryStyle(CultureInfo.InvariantCulture, printUnitsInHeader: true, SizeUnit.B, TimeUnit.Nanosecond, printUnitsInContent: false)))
        .WithOption(ConfigOptions.JoinSummary, false);
}
