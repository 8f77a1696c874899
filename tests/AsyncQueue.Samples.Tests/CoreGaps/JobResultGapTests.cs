using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Samples.Tests.CoreGaps;

/// <summary>
/// Gaps in the core's <see cref="JobContext.SetResult"/> found while writing the samples (issue 17). These tests
/// state what the API's documentation promises and fail today; they are here, not in src, because the samples'
/// branch does not change the core.
/// </summary>
public sealed class JobResultGapTests
{
    [Fact]
    public async Task SetResult_FailedAttemptThenASucceedingOneThatSetsNone_ResultIsNotTheFailedAttempts()
    {
        // JobInfo.Result is "what its handler reported ... in the attempt that succeeded". Attempt 1 reports a result
        // and then fails; attempt 2 succeeds and reports none.
        var (host, jobs, monitor) = await StartAsync<FailsOnceAfterSettingAResult, FailsOnceAfterSettingAResultHandler>();
        using (host)
        {
            var id = (await jobs.EnqueueAsync(new FailsOnceAfterSettingAResult())).JobId;
            await monitor.WaitForIdleAsync();

            var job = await monitor.GetJobAsync(id);

            Assert.Equal(JobState.Succeeded, job?.State);
            Assert.Equal(2, job?.Attempt);
            Assert.Null(job?.Result);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task SetResult_CalledAfterTheHandlerReturned_ThrowsAndLeavesTheFinishedJobsResult()
    {
        // SetResult's documentation: InvalidOperationException when "the attempt is over". A job with an idempotency
        // key (any job whose record is not a worker's reusable one) is checked by id and attempt only, which a finished
        // job still matches, so a late call succeeds and rewrites the finished job's reported result.
        var (host, jobs, monitor) = await StartAsync<KeepsItsContext, KeepsItsContextHandler>();
        using (host)
        {
            var id = (await jobs.EnqueueAsync(new KeepsItsContext(), new EnqueueOptions { IdempotencyKey = "late-result" })).JobId;
            await monitor.WaitForIdleAsync();
            var context = await KeepsItsContextHandler.Context.Task;
            Assert.Equal("on time", (await monitor.GetJobAsync(id))?.Result);

            var late = Record.Exception(() => context.SetResult("late"));

            Assert.IsType<InvalidOperationException>(late);
            Assert.Equal("on time", (await monitor.GetJobAsync(id))?.Result);
            await host.StopAsync();
        }
    }

    private static async Task<(IHost Host, IJobQueue Jobs, IJobQueueMonitor Monitor)> StartAsync<TJob, THandler>()
        where TJob : notnull
        where THandler : class, IJobHandler<TJob>
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddJobQueue().AddHandler<TJob, THandler>(queue => queue.Retry = new RetryPolicy { Delay = TimeSpan.Zero, Jitter = 0 });
        var host = builder.Build();
        await host.StartAsync();
        return (host, host.Services.GetRequiredService<IJobQueue>(), host.Services.GetRequiredService<IJobQueueMonitor>());
    }
}

[JobKind("gap-fails-once")]
public sealed record FailsOnceAfterSettingAResult;

public sealed class FailsOnceAfterSettingAResultHandler : IJobHandler<FailsOnceAfterSettingAResult>
{
    public Task HandleAsync(FailsOnceAfterSettingAResult job, JobContext context, CancellationToken cancellationToken)
    {
        if (context.Attempt == 1)
        {
            context.SetResult("half-written.tmp");
            throw new IOException("The disk filled up after the result was reported.");
        }

        return Task.CompletedTask;
    }
}

[JobKind("gap-keeps-context")]
public sealed record KeepsItsContext;

public sealed class KeepsItsContextHandler : IJobHandler<KeepsItsContext>
{
    public static readonly TaskCompletionSource<JobContext> Context = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task HandleAsync(KeepsItsContext job, JobContext context, CancellationToken cancellationToken)
    {
        context.SetResult("on time");
        Context.TrySetResult(context);
        return Task.CompletedTask;
    }
}
