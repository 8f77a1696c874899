using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.RabbitMQ.Tests;

/// <summary>The services of one process on the test broker: the store of one queue, on the real clock (the broker's TTLs are real time).</summary>
internal static class RabbitMqProcess
{
    public static ServiceProvider Build(string uri, string queue, Action<RabbitMqStoreOptions>? configure = null, Action<QueueOptions>? queueOptions = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TestRuns>();
        services.AddJobQueue()
            .AddHandler<TestJob, TestJobHandler>(queue, q =>
            {
                q.MaxConcurrency = 4;
                queueOptions?.Invoke(q);
            })
            .UseRabbitMq(uri, configure);
        return services.BuildServiceProvider();
    }

    public static JobRecord NewJob(string queue, int number, DateTimeOffset? notBefore = null) =>
        new(JobId.NewId(), "rabbit-test", queue, new TestJob(number), TimeProvider.System.GetUtcNow()) { NotBefore = notBefore };
}
