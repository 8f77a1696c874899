using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncQueue.Tests.HealthChecks;

public sealed class JobQueueHealthCheckTests
{
    public sealed record Gated(bool Fail);

    public sealed class GatedHandler(TaskCompletionSource gate) : IJobHandler<Gated>
    {
        public async Task HandleAsync(Gated job, JobContext context, CancellationToken cancellationToken)
        {
            await gate.Task.WaitAsync(cancellationToken);
            if (job.Fail)
            {
                throw new PermanentJobException("no");
            }
        }
    }

    private static Task<TestHost> StartAsync(TaskCompletionSource gate) =>
        TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(gate);
            services.AddHealthChecks().AddJobQueue(o =>
            {
                o.MaxQueueDepth = 2;
                o.MaxDeadLetterGrowth = 1;
            });
            queue.AddHandler<Gated, GatedHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Retry = RetryPolicy.None;
            });
        });

    private static async Task<HealthReportEntry> CheckAsync(TestHost host) =>
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["asyncqueue"];

    [Fact]
    public async Task Check_WorkersRunningAndQueueShallow_IsHealthy()
    {
        await using var host = await StartAsync(new TaskCompletionSource());

        var entry = await CheckAsync(host);
        Assert.True(entry.Status == HealthStatus.Healthy, entry.Description + entry.Exception);
    }

    [Fact]
    public async Task Check_AfterStop_IsUnhealthy()
    {
        await using var host = await StartAsync(new TaskCompletionSource());
        await host.StopAsync(CancellationToken.None);

        var entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("not running", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_QueueDeeperThanThreshold_IsDegraded()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartAsync(gate);

        // One job holds the only worker; three wait, one more than the threshold of two.
        await host.Queue.EnqueueBatchAsync([new Gated(false), new Gated(false), new Gated(false), new Gated(false)]);
        await Poll.UntilAsync(() => AsyncQueue.Tests.Storage.StoreCounts.CountWaiting(host.Services.GetRequiredService<AsyncQueue.Storage.IJobStore>(), nameof(Gated)) == 3, "the worker took the first job");
        var entry = await CheckAsync(host);
        gate.SetResult();

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("queue 'Gated' holds 3 waiting jobs (threshold 2)", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_DeadLettersGrowFasterThanThreshold_IsDegraded()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        await using var host = await StartAsync(gate);
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        await host.Queue.EnqueueBatchAsync([new Gated(true), new Gated(true)]);
        await Poll.UntilAsync(() => deadLetters.CountAsync("Gated-dead-letter").AsTask().Result == 2, "both jobs were dead-lettered");
        var entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("2 jobs were dead-lettered since the last check (threshold 1)", entry.Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);
    }
}
