using AsyncQueue.Monitoring;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Dashboard.Tests.Pages;

/// <summary>
/// The actions the browser tests do not click (cancel, delete, purge, requeue all), each posted with the page's own
/// form and token, as a click sends it; each answered with 303 to the page that shows the outcome.
/// </summary>
public sealed class DashboardActionsTests
{
    private const string DeadLetterQueue = "sign-up-dead-letter";

    [Fact]
    public async Task Cancel_ScheduledJob_IsCancelledAndItsPageSaysSo()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();
        var id = (await app.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new Ping(), new EnqueueOptions { Delay = TimeSpan.FromHours(1) })).JobId;

        var (status, headers, _) = await app.ClickAsync($"/jobs/job/{id}", $"/jobs/job/{id}/cancel");

        Assert.Equal(303, status);
        Assert.Equal($"/jobs/job/{id}?done=cancelled", headers.Location.ToString());

        // CancelAsync answered Cancelled. The in-memory store moves the job to its queue for a worker to drop, and for
        // that moment GetJobAsync can still read it Waiting, or Running while the worker drops it: wait for the end.
        var monitor = app.Services.GetRequiredService<IJobQueueMonitor>();
        using (var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while ((await monitor.GetJobAsync(id, hangGuard.Token))?.State != JobState.Cancelled)
            {
                await Task.Delay(10, hangGuard.Token);
            }
        }

        var page = await app.SendAsync("GET", headers.Location.ToString(), System.Net.IPAddress.Loopback);
        Assert.Contains("Cancelled: the job will not run.", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain($"/jobs/job/{id}/cancel", page.Body, StringComparison.Ordinal);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 5 && r.Message == $"Job queue dashboard: (anonymous) from 127.0.0.1 did cancel {id}.");
    }

    [Fact]
    public async Task Delete_DeadLetter_IsGoneFromItsQueue()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();
        var id = await app.DeadLetterAsync(new SignUp("a@example.com", "a"));

        var (status, headers, _) = await app.ClickAsync($"/jobs/dead-letter/{id}", $"/jobs/dead-letter/{id}/delete");

        Assert.Equal(303, status);
        Assert.Equal($"/jobs/dead-letters/{DeadLetterQueue}?done=deleted", headers.Location.ToString());
        Assert.Null(await app.Services.GetRequiredService<IDeadLetterQueue>().GetAsync(id));
    }

    [Fact]
    public async Task Purge_DeadLetterQueue_DeletesEveryEntry()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await app.DeadLetterAsync(new SignUp($"{i}@example.com", $"{i}"));
        }

        var (status, headers, _) = await app.ClickAsync($"/jobs/dead-letters/{DeadLetterQueue}", $"/jobs/dead-letters/{DeadLetterQueue}/purge");

        Assert.Equal(303, status);
        Assert.Equal($"/jobs/dead-letters/{DeadLetterQueue}?done=purged", headers.Location.ToString());
        Assert.Equal(0, await app.Services.GetRequiredService<IDeadLetterQueue>().CountAsync(DeadLetterQueue));
    }

    [Fact]
    public async Task RequeueAll_DeadLetterQueue_RunsEveryEntryAgain()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();
        var ids = new List<JobId>();
        for (var i = 0; i < 2; i++)
        {
            ids.Add(await app.DeadLetterAsync(new SignUp($"{i}@example.com", $"{i}")));
        }

        var (status, _, _) = await app.ClickAsync($"/jobs/dead-letters/{DeadLetterQueue}", $"/jobs/dead-letters/{DeadLetterQueue}/requeue-all");

        // The handler fails for good every time, so each job ran again and came back after a second attempt's error.
        Assert.Equal(303, status);
        var monitor = app.Services.GetRequiredService<IJobQueueMonitor>();
        foreach (var id in ids)
        {
            using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while ((await monitor.GetJobAsync(id, hangGuard.Token)) is not { State: JobState.DeadLettered, Errors.Count: 2 })
            {
                await Task.Delay(10, hangGuard.Token);
            }
        }
    }
}
