using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.RabbitMQ.Tests;

/// <summary>
/// The services of one process on the test broker: the store of one queue, on the real clock unless a test gives one
/// (the broker's TTLs are real time either way; a fixed clock only makes the store's delay arithmetic exact).
/// </summary>
internal static class RabbitMqProcess
{
    public static ServiceProvider Build(string uri, string queue, Action<RabbitMqStoreOptions>? configure = null, Action<QueueOptions>? queueOptions = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

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
