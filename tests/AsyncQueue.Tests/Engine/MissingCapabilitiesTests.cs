using System.Threading.Channels;
using AsyncQueue.Monitoring;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using NSubstitute;

namespace AsyncQueue.Tests.Engine;

// NSubstitute specifies a ValueTask-returning member by calling it: that call is a specification, never awaited.
#pragma warning disable CA2012

/// <summary>
/// The job queue's refusals on a store that declares it lacks job status and pause (a broker's): refused before the
/// store is asked, and before anything in this process is touched.
/// </summary>
public sealed class MissingCapabilitiesTests : IAsyncDisposable
{
    private const string Queue = "brokered";

    /// <summary>How long a call may take before the test fails rather than hangs (a cancel that reached the worker may wait for it).</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly Channel<JobRecord> _ready = Channel.CreateUnbounded<JobRecord>();
    private readonly IJobStore _store = Substitute.For<IJobStore>();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TestHost? _host;

    public MissingCapabilitiesTests()
    {
        _store.Capabilities.Returns(JobStoreCapabilities.Durable);
        _store.OpenConsumer(Queue).Returns(_ =>
        {
            var consumer = Substitute.For<IJobConsumer>();
            consumer.FetchAsync(Arg.Any<CancellationToken>()).Returns(call => _ready.Reader.ReadAsync(call.Arg<CancellationToken>()));
            return consumer;
        });
        _store.OpenExpiredLeaseConsumer().Returns(_ =>
        {
            var consumer = Substitute.For<IJobConsumer>();
            consumer.FetchAsync(Arg.Any<CancellationToken>()).Returns(call => Channel.CreateUnbounded<JobRecord>().Reader.ReadAsync(call.Arg<CancellationToken>()));
            return consumer;
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task CancelAndGetJob_StoreWithoutJobStatus_ThrowNotSupportedAndLeaveTheRunningJobAlone()
    {
        var queue = await StartAsync();
        var job = new JobRecord(JobId.NewId(), "waiter", Queue, new Waiter(), DateTimeOffset.UnixEpoch);
        await _ready.Writer.WriteAsync(job);
        await _started.Task.WaitAsync(Guard);

        var cancel = await Assert.ThrowsAsync<NotSupportedException>(async () => await queue.CancelAsync(job.Id).AsTask().WaitAsync(Guard));
        var lookup = await Assert.ThrowsAsync<NotSupportedException>(async () => await _host!.Services.GetRequiredService<IJobQueueMonitor>().GetJobAsync(job.Id).AsTask().WaitAsync(Guard));

        Assert.Contains(nameof(JobStoreCapabilities.JobStatus), cancel.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(JobStoreCapabilities.JobStatus), lookup.Message, StringComparison.Ordinal);
        Assert.False(_cancelled.Task.IsCompleted);
        _ = _store.DidNotReceiveWithAnyArgs().CancelAsync(default, default);
        _ = _store.DidNotReceiveWithAnyArgs().GetJobAsync(default, default);
    }

    [Fact]
    public async Task PauseAndResume_StoreWithoutPause_ThrowNotSupportedAndStoreNothing()
    {
        var queue = await StartAsync();

        var pause = await Assert.ThrowsAsync<NotSupportedException>(async () => await queue.PauseAsync(Queue));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await queue.ResumeAsync(Queue));

        Assert.Contains(nameof(JobStoreCapabilities.Pause), pause.Message, StringComparison.Ordinal);
        _ = _store.DidNotReceiveWithAnyArgs().SetPausedAsync(default!, default, default);
    }

    private async Task<IJobQueue> StartAsync()
    {
        _host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(_store);
            services.AddSingleton(this);
            queue.AddHandler<Waiter, WaiterHandler>(Queue);
        });
        return _host.Queue;
    }

    /// <summary>A job whose handler waits for its token.</summary>
    [JobKind("waiter")]
    public sealed record Waiter;

    public sealed class WaiterHandler(MissingCapabilitiesTests test) : IJobHandler<Waiter>
    {
        public async Task HandleAsync(Waiter job, JobContext context, CancellationToken cancellationToken)
        {
            test._started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                test._cancelled.TrySetResult();
                throw;
            }
        }
    }
}
