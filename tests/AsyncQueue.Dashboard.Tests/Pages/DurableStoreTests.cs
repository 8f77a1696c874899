using System.Net;
using AsyncQueue.Monitoring;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Dashboard.Tests.Pages;

/// <summary>
/// The dashboard over a durable store (SQLite): it uses only the operations API, so it lists, requeues and pauses there
/// as it does over the in-memory store.
/// </summary>
public sealed class DurableStoreTests : IDisposable
{
    private const string DeadLetterQueue = "sign-up-dead-letter";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "asyncqueue-dashboard-tests-" + Guid.NewGuid().ToString("N"));

    public DurableStoreTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public async Task Dashboard_OverSqlite_ListsRequeuesAndPauses()
    {
        await using var app = await InMemoryDashboardApp.StartAsync(jobs: jobs => jobs.UseSqlite($"Data Source={Path.Combine(_folder, "jobs.db")}"));
        var id = await app.DeadLetterAsync(new SignUp("ada@example.com", "Ada"));

        var list = await app.SendAsync("GET", $"/jobs/dead-letters/{DeadLetterQueue}", IPAddress.Loopback);
        Assert.Contains($"<tr data-job=\"{id}\">", list.Body, StringComparison.Ordinal);

        var requeued = await app.ClickAsync($"/jobs/dead-letter/{id}", $"/jobs/dead-letter/{id}/requeue");
        Assert.Equal(303, requeued.Status);
        var monitor = app.Services.GetRequiredService<IJobQueueMonitor>();
        using (var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            // The handler fails for good every time: the requeued job ran once more and is back, with two errors.
            while ((await monitor.GetJobAsync(id, hangGuard.Token)) is not { State: JobState.DeadLettered, Errors.Count: 2 })
            {
                await Task.Delay(20, hangGuard.Token);
            }
        }

        var paused = await app.ClickAsync("/jobs", "/jobs/queues/sign-up/pause");
        Assert.Equal(303, paused.Status);
        Assert.True((await monitor.GetStatusAsync("sign-up")).Paused);
        var page = await app.SendAsync("GET", "/jobs", IPAddress.Loopback);
        Assert.Contains("action=\"/jobs/queues/sign-up/resume\"", page.Body, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
