using AsyncQueue.Benchmarks.Contenders;
using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 2 (and 3), backlog: a million jobs are enqueued before the workers start (not measured); measured is
/// starting N workers and burning the backlog down. The bounded channel cannot hold a backlog larger than 1024 and
/// the peers cannot be paused cheaply, so they appear in <see cref="SteadyBenchmarks"/> only.
/// </summary>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class BacklogBenchmarks
{
    private IContender _contender = null!;
    private Task _done = Task.CompletedTask;

    [Params(1, 2, 4)]
    public int Workers { get; set; }

    [IterationSetup(Target = nameof(AsyncQueue_Engine))]
    public void SetupEngine() => Prefill(ContenderKind.AsyncQueue);

    [IterationSetup(Target = nameof(AsyncQueue_Pipeline))]
    public void SetupPipeline() => Prefill(ContenderKind.AsyncQueuePipeline);

    [IterationSetup(Target = nameof(Channel_Unbounded))]
    public void SetupChannel() => Prefill(ContenderKind.ChannelUnbounded);

    [IterationSetup(Target = nameof(ConcurrentQueue_Semaphore))]
    public void SetupConcurrentQueue() => Prefill(ContenderKind.ConcurrentQueueSemaphore);

    [IterationCleanup]
    public void Cleanup() => _contender.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task AsyncQueue_Engine() => Drive.BurnDownAsync(_contender, _done);

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task AsyncQueue_Pipeline() => Drive.BurnDownAsync(_contender, _done);

    [Benchmark(Baseline = true, OperationsPerInvoke = JobCounts.InProcess)]
    public Task Channel_Unbounded() => Drive.BurnDownAsync(_contender, _done);

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task ConcurrentQueue_Semaphore() => Drive.BurnDownAsync(_contender, _done);

    private void Prefill(ContenderKind kind)
    {
        _contender = ContenderFactory.Create(kind, Workers);
        _done = Drive.PrefillAsync(_contender, JobCounts.InProcess).GetAwaiter().GetResult();
    }
}
