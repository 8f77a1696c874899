using System.Net;
using AsyncQueue.Monitoring;
using AsyncQueue.Recurring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Dashboard.Tests.Pages;

/// <summary>
/// The Recurring page (<c>/jobs/recurring</c>) and its actions, each posted with the page's own form and token as a
/// click sends it. The app's clock is fake and never moved, so no tick falls due while a test runs and every job the
/// tests see was enqueued by a trigger.
/// </summary>
public sealed class RecurringPageTests
{
    private const string Name = "nightly-ping";

    // 12:00 UTC, so 03:00 in Berlin (CET, UTC+1) is next due tomorrow at 02:00 UTC.
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RenderAsync_ScheduleRegistered_ListsItWithItsNextRunAndIsLinkedFromTheHeader()
    {
        await using var app = await StartWithScheduleAsync(Name);

        var overview = await app.SendAsync("GET", "/jobs", IPAddress.Loopback);
        var (status, _, body) = await app.SendAsync("GET", "/jobs/recurring", IPAddress.Loopback);

        Assert.Contains("""<a href="/jobs/recurring">Recurring</a>""", overview.Body, StringComparison.Ordinal);
        Assert.Equal(200, status);
        Assert.Contains($"""<tr data-recurring="{Name}">""", body, StringComparison.Ordinal);
        Assert.Contains("<code>0 3 * * *</code>", body, StringComparison.Ordinal);
        Assert.Contains("<td>Europe/Berlin</td>", body, StringComparison.Ordinal);
        Assert.Contains("""<td data-field="state" class="active">Active</td>""", body, StringComparison.Ordinal);
        Assert.Contains("""<td data-field="next-run">2026-12-04 02:00:00 UTC</td>""", body, StringComparison.Ordinal);
        // The dash that stands for "never", as the encoding handler writes it.
        Assert.Contains("""<td data-field="last-run">&#x2014;</td>""", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PauseThenResume_ThroughThePageForms_ChangesTheSchedulesPausedState()
    {
        await using var app = await StartWithScheduleAsync(Name);
        var recurring = app.Services.GetRequiredService<IRecurringJobs>();

        var paused = await app.ClickAsync("/jobs/recurring", $"/jobs/recurring/{Name}/pause");
        var pausedState = Assert.Single(recurring.List()).Paused;
        var page = await app.SendAsync("GET", paused.Headers.Location.ToString(), IPAddress.Loopback);
        var resumed = await app.ClickAsync("/jobs/recurring", $"/jobs/recurring/{Name}/resume");

        Assert.Equal(303, paused.Status);
        Assert.Equal("/jobs/recurring?done=schedule-paused", paused.Headers.Location.ToString());
        Assert.True(pausedState);
        Assert.Contains("Paused the schedule in this process", page.Body, StringComparison.Ordinal);
        Assert.Contains("""<td data-field="state" class="paused">Paused</td>""", page.Body, StringComparison.Ordinal);
        Assert.Equal(303, resumed.Status);
        Assert.Equal("/jobs/recurring?done=schedule-resumed", resumed.Headers.Location.ToString());
        Assert.False(Assert.Single(recurring.List()).Paused);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 5 && r.Message == $"Job queue dashboard: (anonymous) from 127.0.0.1 did pause schedule {Name}.");
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 5 && r.Message == $"Job queue dashboard: (anonymous) from 127.0.0.1 did resume schedule {Name}.");
    }

    [Fact]
    public async Task Trigger_ThroughThePageForm_EnqueuesOneJobNow()
    {
        await using var app = await StartWithScheduleAsync(Name);

        var (status, headers, _) = await app.ClickAsync("/jobs/recurring", $"/jobs/recurring/{Name}/trigger");

        // The schedule's jobs are delayed an hour on a clock that does not move, so the triggered one waits, scheduled.
        Assert.Equal(303, status);
        Assert.Equal("/jobs/recurring?done=triggered", headers.Location.ToString());
        Assert.Equal(1, await ScheduledJobsAsync(app));
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 5 && r.Message == $"Job queue dashboard: (anonymous) from 127.0.0.1 did trigger {Name}.");
    }

    [Fact]
    public async Task Remove_ThroughThePageForm_AsksFirstThenRemovesTheSchedule()
    {
        await using var app = await StartWithScheduleAsync(Name);

        var page = await app.SendAsync("GET", "/jobs/recurring", IPAddress.Loopback);
        var (status, headers, _) = await app.ClickAsync("/jobs/recurring", $"/jobs/recurring/{Name}/remove");
        var after = await app.SendAsync("GET", headers.Location.ToString(), IPAddress.Loopback);

        Assert.Contains($"""action="/jobs/recurring/{Name}/remove" data-confirm="Remove the schedule {Name} from this process?""", page.Body, StringComparison.Ordinal);
        Assert.Equal(303, status);
        Assert.Equal("/jobs/recurring?done=schedule-removed", headers.Location.ToString());
        Assert.Empty(app.Services.GetRequiredService<IRecurringJobs>().List());
        Assert.Contains("id=\"no-recurring\"", after.Body, StringComparison.Ordinal);
    }

    public static TheoryData<string> Actions => ["pause", "resume", "trigger", "remove"];

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Action_WithoutAntiforgeryToken_IsRefusedAndChangesNothing(string action)
    {
        await using var app = await StartWithScheduleAsync(Name);

        var (status, _, body) = await app.SendAsync("POST", $"/jobs/recurring/{Name}/{action}", IPAddress.Loopback);

        Assert.Equal(400, status);
        Assert.Contains("antiforgery token is missing or not valid", body, StringComparison.Ordinal);
        Assert.False(Assert.Single(app.Services.GetRequiredService<IRecurringJobs>().List()).Paused);
        Assert.Equal(0, await ScheduledJobsAsync(app));
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 4);
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Id.Id == 5);
    }

    [Fact]
    public async Task Dashboard_HostWithoutRecurringJobs_RendersWithoutTheSection()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();

        var overview = await app.SendAsync("GET", "/jobs", IPAddress.Loopback);
        var recurring = await app.SendAsync("GET", "/jobs/recurring", IPAddress.Loopback);
        var action = await app.SendAsync("POST", $"/jobs/recurring/{Name}/trigger", IPAddress.Loopback);

        Assert.Null(app.Services.GetService<IRecurringJobs>());
        Assert.Equal(200, overview.Status);
        Assert.Contains("<tr data-queue=\"sign-up\">", overview.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("/jobs/recurring", overview.Body, StringComparison.Ordinal);
        Assert.Equal(200, recurring.Status);
        Assert.Contains("id=\"no-recurring\"", recurring.Body, StringComparison.Ordinal);
        Assert.Equal(404, action.Status);
        Assert.Contains("No recurring job has this name.", action.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_NameWithMarkup_ShowsItEncoded()
    {
        await using var app = await StartWithScheduleAsync("<img src=x onerror=alert(1)>");

        var (status, _, body) = await app.SendAsync("GET", "/jobs/recurring", IPAddress.Loopback);

        Assert.Equal(200, status);
        Assert.DoesNotContain("<img", body, StringComparison.Ordinal);
        Assert.Contains("<th scope=\"row\">&lt;img src=x onerror=alert(1)&gt;</th>", body, StringComparison.Ordinal);
    }

    private static Task<InMemoryDashboardApp> StartWithScheduleAsync(string name) =>
        InMemoryDashboardApp.StartAsync(time: new FakeTimeProvider(Now), jobs: jobs => jobs.AddRecurringJob(name, "0 3 * * *", () => new Ping(), o =>
        {
            o.TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
            o.Enqueue = new EnqueueOptions { Delay = TimeSpan.FromHours(1) };
        }));

    private static async Task<long> ScheduledJobsAsync(InMemoryDashboardApp app)
    {
        var monitor = app.Services.GetRequiredService<IJobQueueMonitor>();
        var scheduled = 0L;
        foreach (var queue in monitor.Queues)
        {
            scheduled += (await monitor.GetStatusAsync(queue.Name)).Scheduled;
        }

        return scheduled;
    }
}
