using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.RabbitMQ.Tests.Crash;

/// <summary>The broker stopped and started again mid-run: the store reconnects, and every confirmed job runs.</summary>
/// <remarks>A broker of its own, since the restart would cut every other test's connection.</remarks>
public sealed class BrokerRestartTests
{
    private const int Jobs = 4_000;

    [Fact]
    public async Task Restart_BrokerMidRun_EveryConfirmedJobRuns()
    {
        await using var broker = await ThrowawayRabbitMqServer.StartAsync();
        var queue = RabbitMqServer.NewQueue();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TestRuns>();
        builder.Services.AddSingleton<RestartGate>();
        builder.Services.AddJobQueue().AddHandler<TestJob, GatedTestJobHandler>(queue, q => q.MaxConcurrency = 4).UseRabbitMq(broker.Uri);
        using var host = builder.Build();
        await host.StartAsync();
        var jobs = host.Services.GetRequiredService<IJobQueue>();
        var runs = host.Services.GetRequiredService<TestRuns>();
        var gate = host.Services.GetRequiredService<RestartGate>();

        await jobs.EnqueueBatchAsync([.. Enumerable.Range(0, Jobs).Select(i => new TestJob(i))]);
        await Poll.UntilAsync(() => runs.Snapshot().Count >= GatedTestJobHandler.HeldFrom, "the jobs before the gate ran before the restart");
        await broker.RestartAsync();
        gate.Open.SetResult();
        await Poll.UntilAsync(() => runs.Snapshot().Count == Jobs, "every job ran after the restart", limitSeconds: 300);
        await host.StopAsync();

        Assert.Equal(Enumerable.Range(0, Jobs), runs.Snapshot().Keys.Order());
    }
}

/// <summary>Opened once the broker is back: until then the jobs from <see cref="GatedTestJobHandler.HeldFrom"/> on wait.</summary>
public sealed class RestartGate
{
    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Records the run; from job <see cref="HeldFrom"/> on, then waits for the gate. So the restart finds the queue mid-run
/// however long it takes (a timed handler let a slow restart on a loaded machine start after the last job ran): the
/// workers hold gated jobs whose deliveries the restart voids, and the rest wait in the broker or the prefetch.
/// </summary>
public sealed class GatedTestJobHandler(TestRuns runs, RestartGate gate) : IJobHandler<TestJob>
{
    public const int HeldFrom = 200;

    public async Task HandleAsync(TestJob job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Add(job.Number, context.Attempt);
        if (job.Number >= HeldFrom)
        {
            await gate.Open.Task.WaitAsync(cancellationToken);
        }
    }
}
