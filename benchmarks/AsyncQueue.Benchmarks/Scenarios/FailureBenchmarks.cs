using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 4, failure-heavy (see <see cref="FailureScenario"/>): a steady producer, 10% of first attempts throw,
/// one zero-delay retry. Retries per second are a tenth of the jobs per second.
/// </summary>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class FailureBenchmarks
{
    private FailureScenario.Setup _setup = null!;

    [Params(1, 2, 4)]
    public int Workers { get; set; }

    [GlobalSetup(Target = nameof(AsyncQueue_Retry))]
    public void SetupEngine() => Start(FailureScenario.CreateAsyncQueue(Workers));

    [GlobalSetup(Target = nameof(Channel_Unbounded))]
    public void SetupChannel() => Start(FailureScenario.CreateChannel(Workers));

    [GlobalCleanup]
    public void Cleanup() => _setup.Contender.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task AsyncQueue_Retry() => Drive.SteadyIndexedAsync(_setup.Contender, JobCounts.InProcess);

    [Benchmark(Baseline = true, OperationsPerInvoke = JobCounts.InProcess)]
    public Task Channel_Unbounded() => Drive.SteadyIndexedAsync(_setup.Contender, JobCounts.InProcess);

    private void Start(FailureScenario.Setup setup)
    {
        _setup = setup;
        _setup.Contender.StartAsync().GetAwaiter().GetResult();
    }
}
