using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Tests.DependencyInjection;

public sealed class RegistrationTests
{
    public sealed record Ping(int Number);

    public sealed record Unregistered;

    [JobKind("shared")]
    public sealed record First;

    [JobKind("shared")]
    public sealed record Second;

    public sealed class Handler<TJob> : IJobHandler<TJob>
        where TJob : notnull
    {
        public Task HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public async Task EnqueueAsync_NullJob_ThrowsArgumentNullNamingTheJob()
    {
        await using var host = await TestHost.StartAsync((_, queue) => queue.AddHandler<Ping, Handler<Ping>>());

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => host.Queue.EnqueueAsync<Ping>(null!).AsTask());

        Assert.Equal("job", error.ParamName);
        Assert.Contains(nameof(Ping), error.Message, StringComparison.Ordinal);
    }

    public sealed class RecordingHandler(List<int> handled, Countdown done) : IJobHandler<Ping>
    {
        public Task HandleAsync(Ping job, JobContext context, CancellationToken cancellationToken)
        {
            handled.Add(job.Number);
            done.Signal();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task EnqueueBatchAsync_NullElement_ThrowsAndEnqueuesNothing()
    {
        var handled = new List<int>();
        var done = new Countdown(1);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(handled);
            services.AddSingleton(done);
            queue.AddHandler<Ping, RecordingHandler>(q => q.MaxConcurrency = 1);
        });

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => host.Queue.EnqueueBatchAsync([new Ping(1), null!]).AsTask());
        await host.Queue.EnqueueAsync(new Ping(2));
        await done.WaitAsync();

        // One worker runs jobs in order: had Ping(1) been enqueued, it would have run before Ping(2).
        Assert.Equal("jobs", error.ParamName);
        Assert.Equal([2], handled);
    }

    [Fact]
    public async Task EnqueueAsync_UnregisteredJobType_ThrowsTypedExceptionNamingTheType()
    {
        await using var host = await TestHost.StartAsync((_, queue) => queue.AddHandler<Ping, Handler<Ping>>());

        var error = await Assert.ThrowsAsync<JobTypeNotRegisteredException>(() => host.Queue.EnqueueAsync(new Unregistered()).AsTask());

        Assert.Equal(typeof(Unregistered), error.JobType);
        Assert.Contains(typeof(Unregistered).FullName!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueAsync_UnknownQueue_ThrowsTypedExceptionNamingTheQueue()
    {
        await using var host = await TestHost.StartAsync((_, queue) => queue.AddHandler<Ping, Handler<Ping>>());

        var error = await Assert.ThrowsAsync<QueueNotConfiguredException>(() => host.Queue.EnqueueAsync(new Ping(1), new EnqueueOptions { Queue = "nowhere" }).AsTask());

        Assert.Equal("nowhere", error.Queue);
        Assert.Contains("'nowhere'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(QueueOptions.MaxConcurrencyLimit + 1)]
    public async Task HostStart_InvalidMaxConcurrency_FailsNamingQueueAndProperty(int maxConcurrency)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobQueue().AddHandler<Ping, Handler<Ping>>(q => q.MaxConcurrency = maxConcurrency);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Queue 'Ping': QueueOptions.MaxConcurrency must be between 1 and 10000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_InvalidCapacity_FailsNamingQueueAndProperty()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobQueue().AddHandler<Ping, Handler<Ping>>("pings", q => q.Capacity = 0);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Queue 'pings': QueueOptions.Capacity must be at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TwoJobTypesWithOneKind_FailsNamingBoth()
    {
        var services = new ServiceCollection();
        services.AddJobQueue().AddHandler<First, Handler<First>>().AddHandler<Second, Handler<Second>>();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IJobQueue>());

        Assert.Contains("share the kind 'shared'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddJobQueue_CalledTwice_RegistersOneQueueAndOneHostedService()
    {
        var services = new ServiceCollection();
        services.AddJobQueue().AddHandler<Ping, Handler<Ping>>();
        services.AddJobQueue().AddHandler<Ping, Handler<Ping>>();
        await using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<IHostedService>());
        Assert.Single(provider.GetServices<IJobHandler<Ping>>().ToList());
        var result = await provider.GetRequiredService<IJobQueue>().EnqueueAsync(new Ping(1));
        Assert.True(result.Accepted);
    }
}
