using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 5, 100,000 delayed jobs due at once (see <see cref="DelayedScenario"/>): each iteration enqueues them
/// (not measured); the invocation advances the fake clock and ends when the last handler has run.
/// </summary>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class DelayedBenchmarks
{
    private DelayedScenario.Engine? _engine;
    private DelayedScenario.Baseline? _baseline;
    private Task _done = Task.CompletedTask;
    private (Job[] Jobs, Task Done) _prepared;

    [Params(1, 2, 4)]
    public int Workers { get; set; }

    [GlobalSetup(Target = nameof(AsyncQueue_DueAtOnce))]
    public void SetupEngine()
    {
        _engine = new DelayedScenario.Engine(Workers);
        _engine.StartAsync().GetAwaiter().GetResult();
    }

    [GlobalSetup(Target = nameof(Channel_Unbounded))]
    public void SetupChannel()
    {
        _baseline = new DelayedScenario.Baseline(Workers);
        _baseline.StartAsync().GetAwaiter().GetResult();
    }

    [IterationSetup(Target = nameof(AsyncQueue_DueAtOnce))]
    public void EnqueueDelayed() => _done = _engine!.EnqueueDelayedAsync(DelayedScenario.Jobs).GetAwaiter().GetResult();

    [IterationSetup(Target = nameof(Channel_Unbounded))]
    public void PrepareChannel() => _prepared = _baseline!.Prepare(DelayedScenario.Jobs);

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _baseline?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = DelayedScenario.Jobs)]
    public Task AsyncQueue_DueAtOnce() => _engine!.FallDueAsync(_done);

    [Benchmark(Baseline = true, OperationsPerInvoke = DelayedScenario.Jobs)]
    public Task Channel_Unbounded() => _baseline!.WriteAllAsync(_prepared);
}
