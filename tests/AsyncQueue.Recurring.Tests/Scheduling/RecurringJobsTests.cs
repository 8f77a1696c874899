using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Recurring.Tests.Scheduling;

/// <summary>Recurring jobs listed, paused, resumed, triggered and removed at run time, through <see cref="IRecurringJobs"/>.</summary>
public sealed class RecurringJobsTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 9, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Ten = new(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);

    private static Task<RecurringHost> StartAsync() => RecurringHost.StartAsync(new FakeTimeProvider(Start), queue => queue
        .AddRecurringJob("hourly", "0 * * * *", () => new TickJob())
        .AddRecurringJob("nightly", "30 2 * * *", () => new TickJob(), o => o.TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")));

    [Fact]
    public async Task List_Started_ShowsEachJobWithItsNextRunInRegistrationOrder()
    {
        await using var host = await StartAsync();

        var jobs = host.Jobs.List();

        Assert.Equal(["hourly", "nightly"], jobs.Select(j => j.Name));
        Assert.Equal("0 * * * *", jobs[0].Cron);
        Assert.Equal(TimeZoneInfo.Utc, jobs[0].TimeZone);
        Assert.Equal(Ten, jobs[0].NextRun);
        Assert.Equal(new DateTimeOffset(2026, 6, 2, 0, 30, 0, TimeSpan.Zero), jobs[1].NextRun); // 02:30 CEST
        Assert.All(jobs, j => Assert.False(j.Paused));
        Assert.All(jobs, j => Assert.Null(j.LastRun));
    }

    [Fact]
    public async Task SetPaused_TicksWhilePaused_SkippedNotCaughtUpOnResume()
    {
        await using var host = await StartAsync();
        await host.AdvanceToAsync(Ten);

        await host.ChangeAsync(jobs => jobs.SetPaused("hourly", true));
        Assert.True(host.Jobs.List()[0].Paused);
        Assert.Null(host.Jobs.List()[0].NextRun);
        await host.AdvanceToAsync(Ten.AddHours(2).AddMinutes(30));
        await host.ChangeAsync(jobs => jobs.SetPaused("hourly", false));
        Assert.Equal(Ten.AddHours(3), host.Jobs.List()[0].NextRun);
        await host.AdvanceToAsync(Ten.AddHours(3));
        await host.WaitForJobsAsync();

        Assert.Equal([Ten, Ten.AddHours(3)], host.Recorder.Ticks);
        Assert.Equal(Ten.AddHours(3), host.Jobs.List()[0].LastRun);
    }

    [Fact]
    public async Task TriggerAsync_PausedJob_EnqueuesOnceNowWithoutKey()
    {
        await using var host = await StartAsync();
        await host.ChangeAsync(jobs => jobs.SetPaused("hourly", true));

        var result = await host.Jobs.TriggerAsync("hourly");
        await host.WaitForJobsAsync();

        Assert.True(result.Accepted);
        Assert.Equal([null], host.Recorder.Ticks);
    }

    [Fact]
    public async Task Remove_Job_NeverEnqueuedAgainAndUnknownAfterwards()
    {
        await using var host = await StartAsync();

        await host.ChangeAsync(jobs => Assert.True(jobs.Remove("hourly")));
        await host.AdvanceToAsync(Ten.AddHours(1));
        await host.WaitForJobsAsync();

        Assert.Empty(host.Recorder.Ticks);
        Assert.Equal(["nightly"], host.Jobs.List().Select(j => j.Name));
        Assert.False(host.Jobs.Remove("hourly"));
        Assert.Throws<KeyNotFoundException>(() => host.Jobs.SetPaused("hourly", true));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => host.Jobs.TriggerAsync("hourly").AsTask());
    }
}
