using AsyncQueue.Benchmarks.Contenders;
using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The PostgreSQL store end-to-end (see <see cref="PostgreSqlScenario"/>) against Hangfire with Hangfire.PostgreSql on
/// the same kind of throwaway server (one per benchmark process, started in the global setup, PostgreSQL's durable
/// defaults): 2 workers, a steady producer, AsyncQueue with single enqueues and batches of 1,000, with its default
/// options and with <c>LeaseAhead</c> + <c>AsynchronousCompletions</c>. The target: at least 10,000 jobs/s.
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
    public void SetupStore() => Setup(tuned: false);

    [GlobalSetup(Target = nameof(PostgreSql_Batch1000_LeaseAhead))]
    public void SetupTunedStore() => Setup(tuned: true);

    [GlobalSetup(Target = nameof(HangfirePostgreSql))]
    public void SetupHangfire()
    {
        _server = ThrowawayPostgreSqlServer.StartAsync(PostgreSqlScenario.Database).GetAwaiter().GetResult();
        _hangfire = HangfireContender.OnPostgreSql(_server.ConnectionString, Workers);
        _hangfire.StartAsync().GetAwaiter().GetResult();
    }

    private void Setup(bool tuned)
    {
        _server = ThrowawayPostgreSqlServer.StartAsync(PostgreSqlScenario.Database).GetAwaiter().GetResult();
        _store = new PostgreSqlScenario(_server.ConnectionString, Workers, tuned);
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

    /// <summary>Batches, with <c>LeaseAhead</c> and <c>AsynchronousCompletions</c> (see <see cref="PostgreSqlScenario"/>).</summary>
    [Benchmark(OperationsPerInvoke = PostgreSqlScenario.Jobs)]
    public Task PostgreSql_Batch1000_LeaseAhead() => _store!.BatchesAsync(PostgreSqlScenario.Jobs);

    [Benchmark(Baseline = true, OperationsPerInvoke = PostgreSqlScenario.HangfireJobs)]
    public Task HangfirePostgreSql() => Drive.SteadyAsync(_hangfire!, PostgreSqlScenario.HangfireJobs);
}
