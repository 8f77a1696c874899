using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Tests.DependencyInjection;

/// <summary>Misuse that would otherwise go unnoticed fails when the host starts, naming the mistake.</summary>
public sealed class StartValidationTests
{
    public sealed record Resize(string Path);

    public sealed record Thumbnail(string Path);

    public sealed class ResizeHandler : IJobHandler<Resize>
    {
        public Task HandleAsync(Resize job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class OtherResizeHandler : IJobHandler<Resize>
    {
        public Task HandleAsync(Resize job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class ThumbnailHandler : IJobHandler<Thumbnail>
    {
        public Task HandleAsync(Thumbnail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class SignallingHandler(TaskCompletionSource<Resize> handled) : IJobHandler<Resize>
    {
        public Task HandleAsync(Resize job, JobContext context, CancellationToken cancellationToken)
        {
            handled.TrySetResult(job);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task HostStart_TwoJobTypesOnOneQueueWithDifferentMaxConcurrency_FailsNamingBothCalls()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobQueue()
            .AddHandler<Resize, ResizeHandler>("images", q => q.MaxConcurrency = 3)
            .AddHandler<Thumbnail, ThumbnailHandler>("images", q => q.MaxConcurrency = 5);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Queue 'images': QueueOptions.MaxConcurrency is configured differently by several calls", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddHandler<Resize, ResizeHandler> sets 3, AddHandler<Thumbnail, ThumbnailHandler> sets 5", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConfigureQueue(\"images\", q => q.MaxConcurrency = ...)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_ConfigureQueueDisagreeingWithAddHandler_FailsNamingConfigureQueue()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobQueue()
            .AddHandler<Resize, ResizeHandler>("images", q => q.MaxConcurrency = 3)
            .ConfigureQueue("images", q => q.MaxConcurrency = 4);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("AddHandler<Resize, ResizeHandler> sets 3, ConfigureQueue(\"images\") sets 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_OneQueueConfiguredByManyCallsThatAgree_Starts()
    {
        // Setting the same value twice, and setting other properties in another call, are both fine.
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobQueue()
            .AddHandler<Resize, ResizeHandler>("images", q => q.MaxConcurrency = 3)
            .AddHandler<Thumbnail, ThumbnailHandler>("images", q => q.MaxConcurrency = 3)
            .ConfigureQueue("images", q => q.Capacity = 100);
        using var host = builder.Build();

        await host.StartAsync();

        var options = host.Services.GetRequiredService<IOptionsMonitor<QueueOptions>>().Get("images");
        Assert.Equal(3, options.MaxConcurrency);
        Assert.Equal(100, options.Capacity);
        await host.StopAsync();
    }

    [Fact]
    public async Task HostStart_OneJobTypeWithTwoHandlers_FailsNamingTheTypeAndBothHandlers()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobQueue()
            .AddHandler<Resize, ResizeHandler>()
            .AddHandler<Resize, OtherResizeHandler>();

        // Wherever the host first builds the registry (at Build with ValidateOnBuild, else at start), it fails.
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var host = builder.Build();
            await host.StartAsync();
        });

        var message = error is AggregateException aggregate ? string.Join(" ", aggregate.Flatten().InnerExceptions.Select(e => e.Message)) : error.Message;
        Assert.Contains("is registered twice", message, StringComparison.Ordinal);
        Assert.Contains("'ResizeHandler'", message, StringComparison.Ordinal);
        Assert.Contains("'OtherResizeHandler'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueAsync_BeforeTheHostStarts_IsAcceptedAndRunsOnceItStarts()
    {
        var handled = new TaskCompletionSource<Resize>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(handled);
        builder.Services.AddJobQueue().AddHandler<Resize, SignallingHandler>();
        using var host = builder.Build();

        var result = await host.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new Resize("a.jpg"));
        Assert.True(result.Accepted);
        Assert.False(handled.Task.IsCompleted);

        await host.StartAsync();

        // A hang guard, not a timing.
        Assert.Equal(new Resize("a.jpg"), await handled.Task.WaitAsync(TimeSpan.FromMinutes(1)));
        await host.StopAsync();
    }
}
