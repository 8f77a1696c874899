using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.RabbitMQ.Tests.Engine;

/// <summary>A whole job queue over the broker: the core's retry policy decides, the broker holds the delays, and a job that fails for good lands in the named dead-letter queue with every attempt's error.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class JobQueueRunTests(RabbitMqServer server)
{
    [Fact]
    public async Task Run_JobsThatFailThenSucceedAndOneThatAlwaysFails_RetriesThroughTheBrokerAndDeadLettersIntoFailedEmails()
    {
        var queue = RabbitMqServer.NewQueue();
        var deadQueue = queue + "-failed-emails";
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TestRuns>();
        builder.Services.AddJobQueue()
            .AddHandler<TestJob, TestJobHandler>(queue, q =>
            {
                q.MaxConcurrency = 4;
                q.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(100));
                q.DeadLetterQueue = deadQueue;
            })
            .UseRabbitMq(server.Uri);
        using var host = builder.Build();
        await host.StartAsync();
        var jobs = host.Services.GetRequiredService<IJobQueue>();
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        await jobs.EnqueueBatchAsync([.. Enumerable.Range(0, 100).Select(i => new TestJob(i, FailTimes: i % 10 == 0 ? 1 : 0))]);
        await jobs.EnqueueAsync(new TestJob(1_000, FailTimes: 99));
        var runs = host.Services.GetRequiredService<TestRuns>();
        await Poll.UntilAsync(
            async () => runs.Snapshot().Count == 101 && await deadLetters.CountAsync(deadQueue) == 1,
            "every job ran, and the failing one was dead-lettered");
        await host.StopAsync();

        var all = runs.Snapshot();
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(i % 10 == 0 ? [1, 2] : [1], all[i]));
        Assert.Equal([1, 2, 3], all[1_000]);
        var dead = Assert.Single(await deadLetters.ListAsync(deadQueue));
        Assert.Equal((new TestJob(1_000, 99), 3), ((TestJob)dead.Job, dead.Attempts));
        Assert.Equal([1, 2, 3], dead.Errors.Select(e => e.Attempt));
        Assert.Contains(deadQueue, await server.Server.CtlAsync("list_queues", "name", "messages"), StringComparison.Ordinal);
    }
}
