using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>A stale worker whose lease was taken over cannot complete, reschedule, dead-letter, cancel or start the job.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class FencingTests(RedisServer server)
{
    private const string Queue = "fencing";

    [Fact]
    public async Task Settle_AfterLeaseWasTakenOver_IsRefusedAndChangesNothing()
    {
        var prefix = RedisServer.NewPrefix();
        var staleTime = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var rescuerTime = new FakeTimeProvider(staleTime.GetUtcNow());
        await using var staleProcess = Build(prefix, staleTime);
        await using var rescuerProcess = Build(prefix, rescuerTime);
        var stale = staleProcess.GetRequiredService<IJobStore>();
        var rescuer = rescuerProcess.GetRequiredService<IJobStore>();
        await stale.EnqueueAsync(new JobRecord(JobId.NewId(), nameof(ConformanceJob), Queue, new ConformanceJob(1), staleTime.GetUtcNow()) { IdempotencyKey = "fenced" }, CancellationToken.None);
        var leased = await stale.OpenConsumer(Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));

        var rescue = rescuer.OpenExpiredLeaseConsumer().FetchAsync(CancellationToken.None).AsTask();
        rescuerTime.Advance(TimeSpan.FromSeconds(40));
        var rescued = await rescue.WaitAsync(TimeSpan.FromMinutes(1));

        await Assert.ThrowsAsync<JobLeaseLostException>(() => stale.CompleteAsync(leased, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<JobLeaseLostException>(() => stale.RescheduleAsync(leased, staleTime.GetUtcNow(), CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<JobLeaseLostException>(() => stale.DeadLetterAsync(leased, new DeadLetterTarget("fenced-dead", TimeSpan.FromDays(1), 10), CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<JobLeaseLostException>(() => stale.MarkCancelledAsync(leased, CancellationToken.None).AsTask());
        Assert.False(await stale.MarkStartedAsync(leased, CancellationToken.None));

        Assert.Equal(0, await stale.DeadLetters.CountAsync("fenced-dead"));
        Assert.Equal(JobState.Running, (await rescuer.GetJobAsync(rescued.Id, CancellationToken.None))!.State);
        await rescuer.CompleteAsync(rescued, CancellationToken.None);
        Assert.Equal(JobState.Succeeded, (await rescuer.GetJobAsync(rescued.Id, CancellationToken.None))!.State);
    }

    private ServiceProvider Build(string prefix, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddJobQueue().AddHandler<ConformanceJob, ConformanceJobHandler>(Queue).UseRedis(server.Configuration, o =>
        {
            o.KeyPrefix = prefix;
            o.LeaseDuration = TimeSpan.FromSeconds(30);
            o.HeartbeatInterval = TimeSpan.FromSeconds(10);
            o.SweepInterval = TimeSpan.FromSeconds(5);

            // The stale process's clock stands still, so it would think its lease fresh and not wait for its completion:
            // the refusal would only be logged. Here every settle must report it.
            o.AsynchronousCompletions = false;
        });
        return services.BuildServiceProvider();
    }
}
