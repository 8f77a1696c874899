using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// The SQLite store end-to-end (see <see cref="SqliteScenario"/>): 2 workers, a steady producer, a file database in
/// a temporary folder, single enqueues and batches of 1,000. The target: at least 10,000 jobs/s.
/// </summary>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class SqliteBenchmarks
{
    private SqliteScenario _store = null!;

    [Params(2)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = new SqliteScenario(Workers);
        _store.StartAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = SqliteScenario.Jobs)]
    public Task Sqlite_Single() => _store.SingleAsync(SqliteScenario.Jobs);

    [Benchmark(OperationsPerInvoke = SqliteScenario.Jobs)]
    public Task Sqlite_Batch1000() => _store.BatchesAsync(SqliteScenario.Jobs);
}
