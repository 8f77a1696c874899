using AsyncQueue.Benchmarks.Contenders;
using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The PostgreSQL store end-to-end (see <see cref="PostgreSqlScenario"/>) against Hangfire with Hangfire.PostgreSql on
/// the same kind of throwaway server (one per benchmark process, started in the global setup, PostgreSQL's durable
/// defaults): 2 workers, a steady producer, AsyncQueue with single enqueues and batches of 1,000, with its default
/// options and with the strict opt-outs (<c>LeaseAhead</c> 0, <c>AsynchronousCompletions</c> off). The target (issue 16):
/// at least 15,000 jobs/s in batches at the defaults, and at least 100x Hangfire.PostgreSql.
/// </summary>
/// <remarks>Without the PostgreSQL binaries the global setup fails, loudly, with what to install.</remarks>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class PostgreSqlBenchmarks
{
    private ThrowawayPostgreSqlServer _server = null!;
    private PostgreSqlScenario? _store;
    private HangfireContender? _hangfire;

    [Params(2)]
    public int Workers { get; set; }

    [GlobalSetup(Targets = [nameof(PostgreSql_Single), nameof(PostgreSql_Batch1000)])]
    public void SetupStore() => Setup(strict: false);

    [GlobalSetup(Target = nameof(PostgreSql_Batch1000_Strict))]
    public void SetupStrictStore() => Setup(strict: true);

    [GlobalSetup(Target = nameof(HangfirePostgreSql))]
    public void SetupHangfire()
    {
        _server = ThrowawayPostgreSqlServer.StartAsync(PostgreSqlScenario.Database).GetAwaiter().GetResult();
        _hangfire = HangfireContender.OnPostgreSql(_server.ConnectionString, Workers);
        _hangfire.StartAsync().GetAwaiter().GetResult();
    }

    private void Setup(bool strict)
    {
        _server = ThrowawayPostgreSqlServer.StartAsync(PostgreSqlScenario.Database).GetAwaiter().GetResult();
        _store = new PostgreSqlScenario(_server.ConnectionString, Workers, strict);
        _store.StartAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _hangfire?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = PostgreSqlScenario.SingleJobs)]
    public Task PostgreSql_Single() => _store!.SingleAsync(PostgreSqlScenario.SingleJobs);

    [Benchmark(OperationsPerInvoke = PostgreSqlScenario.Jobs)]
    public Task PostgreSql_Batch1000() => _store!.BatchesAsync(PostgreSqlScenario.Jobs);

    /// <summary>Batches, with <c>LeaseAhead</c> 0 and synchronous completions (see <see cref="PostgreSqlScenario"/>).</summary>
    [Benchmark(OperationsPerInvoke = PostgreSqlScenario.Jobs)]
    public Task PostgreSql_Batch1000_Strict() => _store!.BatchesAsync(PostgreSqlScenario.Jobs);

    [Benchmark(Baseline = true, OperationsPerInvoke = PostgreSqlScenario.HangfireJobs)]
    public Task HangfirePostgreSql() => Drive.SteadyAsync(_hangfire!, PostgreSqlScenario.HangfireJobs);
}
