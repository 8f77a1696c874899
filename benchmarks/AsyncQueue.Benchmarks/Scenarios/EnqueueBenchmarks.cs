using AsyncQueue.Benchmarks.Contenders;
using BenchmarkDotNet.Attributes;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 1: enqueue only, from 1 and 2 producers, into a queue whose workers are not running. Each iteration
/// gets a fresh, empty queue. MassTransit and Wolverine are left out: they deliver as they accept, so they have no
/// enqueue without their consumers running.
/// </summary>
[MemoryDiagnoser]
[ThreadingDiagnoser]
public class EnqueueBenchmarks
{
    private IContender _contender = null!;

    [Params(1, 2)]
    public int Producers { get; set; }

    [IterationSetup(Target = nameof(AsyncQueue_Engine))]
    public void SetupEngine() => _contender = ContenderFactory.Create(ContenderKind.AsyncQueue, 1);

    [IterationSetup(Target = nameof(Channel_Unbounded))]
    public void SetupChannel() => _contender = ContenderFactory.Create(ContenderKind.ChannelUnbounded, 1);

    [IterationSetup(Target = nameof(ConcurrentQueue_Semaphore))]
    public void SetupConcurrentQueue() => _contender = ContenderFactory.Create(ContenderKind.ConcurrentQueueSemaphore, 1);

    [IterationSetup(Target = nameof(Peer_Coravel))]
    public void SetupCoravel() => _contender = ContenderFactory.Create(ContenderKind.Coravel, 1);

    [IterationSetup(Target = nameof(Peer_Hangfire))]
    public void SetupHangfire() => _contender = ContenderFactory.Create(ContenderKind.Hangfire, 1);

    [IterationCleanup]
    public void Cleanup() => _contender.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task AsyncQueue_Engine() => Drive.ProduceAsync(_contender, JobCounts.InProcess, Producers);

    [Benchmark(Baseline = true, OperationsPerInvoke = JobCounts.InProcess)]
    public Task Channel_Unbounded() => Drive.ProduceAsync(_contender, JobCounts.InProcess, Producers);

    [Benchmark(OperationsPerInvoke = JobCounts.InProcess)]
    public Task ConcurrentQueue_Semaphore() => Drive.ProduceAsync(_contender, JobCounts.InProcess, Producers);

    [Benchmark(OperationsPerInvoke = JobCounts.Coravel)]
    public Task Peer_Coravel() => Drive.ProduceAsync(_contender, JobCounts.Coravel, Producers);

    [Benchmark(OperationsPerInvoke = JobCounts.Hangfire)]
    public Task Peer_Hangfire() => Drive.ProduceAsync(_contender, JobCounts.Hangfire, Producers);
}
