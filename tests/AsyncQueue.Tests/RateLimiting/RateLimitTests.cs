using AsyncQueue.RateLimiting;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.RateLimiting;

public sealed class RateLimitTests
{
    // On a window boundary, so the first window is a whole one.
    private static readonly DateTimeOffset Start = new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero);

    public sealed record PhoneCall(int Number, string Customer);

    public sealed class CallHandler(StartLog log) : IJobHandler<PhoneCall>
    {
        public Task HandleAsync(PhoneCall job, JobContext context, CancellationToken cancellationToken)
        {
            log.Started(job.Number, job.Customer);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task RateLimit_TenPerSecondOverASimulatedMinute_HoldsInEveryWindowAndRunsEveryJob()
    {
        const int Permits = 10;
        const int Seconds = 60;
        const int Jobs = (Permits * Seconds) + 25;
        var time = new FakeTimeProvider(Start);
        var limit = JobRateLimit.PerSecond(Permits);
        var log = new StartLog(time, limit);
        await using var host = await StartAsync(time, log, limit);
        for (var i = 0; i < Jobs; i++)
        {
            await host.Queue.EnqueueAsync(new PhoneCall(i, "all"));
        }

        // Each simulated second fills its window, and only then does the clock move: never more than N starts a window.
        for (var second = 1; second <= Seconds; second++)
        {
            await log.WaitForAsync(Permits * second);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.All(log.Starts, window => Assert.InRange(window.Value, 1, Permits));
        Assert.InRange(log.Starts.Where(w => w.Key.Window < limit.WindowOf(Start) + Seconds).Sum(w => w.Value), (Permits * Seconds) - Permits, Permits * Seconds);

        // The jobs over the limit waited; they are neither failed nor dropped, and each runs once, in the next windows.
        for (var second = Seconds + 1; log.Total < Jobs; second++)
        {
            await log.WaitForAsync(Math.Min(Jobs, Permits * second));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(Jobs, log.Runs.Count);
        Assert.All(log.Runs.Values, runs => Assert.Equal(1, runs));
        Assert.Equal(0, (await host.Services.GetRequiredService<IJobStore>().CountAsync("calls", default)).Waiting);
    }

    [Fact]
    public async Task RateLimit_PerKey_EachKeyHoldsItsOwnLimit()
    {
        const int Permits = 3;
        const int PerCustomer = 30;
        var time = new FakeTimeProvider(Start);
        var limit = new JobRateLimit(Permits, TimeSpan.FromSeconds(1)) { Key = job => ((PhoneCall)job).Customer };
        var log = new StartLog(time, limit);
        await using var host = await StartAsync(time, log, limit);
        for (var i = 0; i < PerCustomer; i++)
        {
            await host.Queue.EnqueueAsync(new PhoneCall(i, "alice"));
            await host.Queue.EnqueueAsync(new PhoneCall(PerCustomer + i, "bob"));
        }

        for (var second = 1; second <= PerCustomer / Permits; second++)
        {
            await log.WaitForAsync(2 * Permits * second);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.All(log.Starts, window => Assert.InRange(window.Value, 1, Permits));
        Assert.Equal(2 * PerCustomer, log.Runs.Count);
    }

    [Fact]
    public async Task CancelAsync_JobWaitingForItsPermit_ReadsWaitingThenIsCancelledAndNeverRuns()
    {
        var time = new FakeTimeProvider(Start);
        var limit = JobRateLimit.PerMinute(1);
        var log = new StartLog(time, limit);
        await using var host = await StartAsync(time, log, limit);
        await host.Queue.EnqueueAsync(new PhoneCall(0, "all"));
        await log.WaitForAsync(1);
        var waiting = (await host.Queue.EnqueueAsync(new PhoneCall(1, "all"))).JobId;

        var monitor = host.Services.GetRequiredService<AsyncQueue.Monitoring.IJobQueueMonitor>();
        while ((await monitor.GetJobAsync(waiting)) is not { State: JobState.Waiting })
        {
            await Task.Delay(5);
        }

        Assert.NotEqual(CancelJobResult.NotFound, await host.Queue.CancelAsync(waiting));
        while ((await monitor.GetJobAsync(waiting)) is not { State: JobState.Cancelled })
        {
            await Task.Delay(5);
        }

        time.Advance(TimeSpan.FromMinutes(5));
        await host.Queue.EnqueueAsync(new PhoneCall(2, "all"));
        await log.WaitForAsync(2);
        Assert.False(log.Runs.ContainsKey(1));
    }

    [Fact]
    public async Task StopAsync_JobWaitingForItsPermit_IsHandedBackUnstarted()
    {
        var time = new FakeTimeProvider(Start);
        var limit = JobRateLimit.PerMinute(1);
        var log = new StartLog(time, limit);
        var host = await StartAsync(time, log, limit);
        await using (host)
        {
            await host.Queue.EnqueueAsync(new PhoneCall(0, "all"));
            await log.WaitForAsync(1);
            var waiting = (await host.Queue.EnqueueAsync(new PhoneCall(1, "all"))).JobId;
            var monitor = host.Services.GetRequiredService<AsyncQueue.Monitoring.IJobQueueMonitor>();
            while ((await monitor.GetJobAsync(waiting)) is not { State: JobState.Waiting })
            {
                await Task.Delay(5);
            }

            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await host.StopAsync(patience.Token);

            // Back in the store, waiting, with no attempt spent; it never ran.
            var store = host.Services.GetRequiredService<IJobStore>();
            Assert.Equal(1, (await store.CountAsync("calls", default)).Waiting);
            Assert.Equal(0, (await store.GetJobAsync(waiting, default))!.Attempt);
            Assert.False(log.Runs.ContainsKey(1));
        }
    }

    [Fact]
    public void Validate_RateLimitOfZeroPermits_FailsNamingTheProperty()
    {
        var validator = new AsyncQueue.DependencyInjection.QueueOptionsValidator();
        var result = validator.Validate("calls", new QueueOptions { RateLimit = new JobRateLimit(0, TimeSpan.Zero) });
        Assert.Contains(result.Failures!, f => f.Contains("RateLimit.Permits", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("RateLimit.Period", StringComparison.Ordinal));
    }

    private static Task<TestHost> StartAsync(FakeTimeProvider time, StartLog log, JobRateLimit limit) =>
        TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(log);
            queue.AddHandler<PhoneCall, CallHandler>("calls", q =>
            {
                q.MaxConcurrency = 4;
                q.RateLimit = limit;
                q.FinishedJobCapacity = 100;
            });
        });
}
