using AsyncQueue.Benchmarks.Contenders;
using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 2 (and 3), steady producer: the workers run from the start, one producer enqueues the jobs as fast as it
/// can, and an invocation ends when the last job's handler has run. The peers are measured here, with the same
/// worker count (Coravel has none: each of its ticks runs everything queued).
/// </summary>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class SteadyBenchmarks
{
    private IContender _contender = null!;

    [Params(1, 2, 4)]
    public int Workers { get; set; }

    [GlobalSetup(Target = nameof(AsyncQueue_Engine))]
    public void SetupEngine() => Start(ContenderKind.AsyncQueue);

    [GlobalSetup(Target = nameof(AsyncQueue_Pipeline))]
    public void SetupPipeline() => Start(ContenderKind.AsyncQueuePipeline);

    [GlobalSetup(Target = nameof(Channel_Unbounded))]
    public void SetupChannel() => Start(ContenderKind.ChannelUnbounded);

    [GlobalSetup(Target = nameof(Channel_Bounded1024))]
    public void SetupBoundedChannel() => Start(ContenderKind.ChannelBounded);

    [GlobalSetup(Target = nameof(ConcurrentQueue_Semaphore))]
    public void SetupConcurrentQueue() => Start(ContenderKind.ConcurrentQueueSemaphore);

    [GlobalSetup(Target = nameof(Peer_Coravel))]
    public void SetupCoravel() => Start(ContenderKind.Coravel);

    [GlobalSetup(Target = nameof(Peer_Hangfire))]
    public void SetupHangfire() => Start(ContenderKind.Hangfire);

    [GlobalSetup(Target = nameof(Peer_MassTransit))]
    public void SetupMassTransit() => Start(ContenderKind.MassTransit);

    [GlobalSetup(Target = nameof(Peer_Wolverine))]
    public void SetupWolverine() => Start(ContenderKind.Wolverine);

    [GlobalCleanup]
    public void Cleanup() => _contender.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task AsyncQueue_Engine() => Drive.SteadyAsync(_contender, JobCounts.InProcess);

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task AsyncQueue_Pipeline() => Drive.SteadyAsync(_contender, JobCounts.InProcess);

    [Benchmark(Baseline = true, OperationsPerInvoke = JobCounts.InProcess)]
    public Task Channel_Unbounded() => Drive.SteadyAsync(_contender, JobCounts.InProcess);

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task Channel_Bounded1024() => Drive.SteadyAsync(_contender, JobCounts.InProcess);

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task ConcurrentQueue_Semaphore() => Drive.SteadyAsync(_contender, JobCounts.InProcess);

    [Benchmark(OperationsPerInvoke = JobCounts.Coravel)]
    public Task Peer_Coravel() => Drive.SteadyAsync(_contender, JobCounts.Coravel);

    [Benchmark(OperationsPerInvoke = JobCounts.Hangfire)]
    public Task Peer_Hangfire() => Drive.SteadyAsync(_contender, JobCounts.Hangfire);

    [Benchmark(OperationsPerInvoke = JobCounts.MassTransit)]
    public Task Peer_MassTransit() => Drive.SteadyAsync(_contender, JobCounts.MassTransit);

    [Benchmark(OperationsPerInvoke = JobCounts.Wolverine)]
    public Task Peer_Wolverine() => Drive.SteadyAsync(_contender, JobCounts.Wolverine);

    private void Start(ContenderKind kind)
    {
        _contender = ContenderFactory.Create(kind, Workers);
        _contender.StartAsync().GetAwaiter().GetResult();
    }
}
