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
        builder.Services.AddJobQueue().AddHandler<TestJob, SlowTestJobHandler>(queue, q => q.MaxConcurrency = 4).UseRabbitMq(broker.Uri);
        using var host = builder.Build();
        await host.StartAsync();
        var jobs = host.Services.GetRequiredService<IJobQueue>();
        var runs = host.Services.GetRequiredService<TestRuns>();

        await jobs.EnqueueBatchAsync([.. Enumerable.Range(0, Jobs).Select(i => new TestJob(i))]);
        await Poll.UntilAsync(() => runs.Snapshot().Count >= 200, "200 jobs ran before the restart");
        await broker.RestartAsync();
        var ranByRestart = runs.Snapshot().Count;
        Assert.True(ranByRestart < Jobs, "Every job ran before the broker was back; the test proves nothing.");
        await Poll.UntilAsync(() => runs.Snapshot().Count == Jobs, "every job ran after the restart", limitSeconds: 300);
        await host.StopAsync();

        Assert.Equal(Enumerable.Range(0, Jobs), runs.Snapshot().Keys.Order());
    }
}

/// <summary>Records the run, then takes 10 ms, so the restart (several seconds) finds the queue mid-run.</summary>
public sealed class SlowTestJobHandler(TestRuns runs) : IJobHandler<TestJob>
{
    public async Task HandleAsync(TestJob job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Add(job.Number, context.Attempt);
        await Task.Delay(10, CancellationToken.None);
    }
}
