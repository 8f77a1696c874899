using System.Net;
using System.Text.Json;
using AsyncQueue.Monitoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Dashboard.Tests.Throughput;

/// <summary>The succeeded count and the per-second chart data (<c>/jobs/api/queues</c>), placed in seconds by the app's clock.</summary>
public sealed class ThroughputTests
{
    [Fact]
    public async Task ApiQueues_JobsSucceeded_CountedInTheirSecondWhichMovesLeftAsTimePasses()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        await using var app = await InMemoryDashboardApp.StartAsync(time: time);
        var queue = app.Services.GetRequiredService<IJobQueue>();
        var ids = new[] { (await queue.EnqueueAsync(new Ping())).JobId, (await queue.EnqueueAsync(new Ping())).JobId };
        await WaitUntilSucceededAsync(app, ids);

        var now = await PingAsync(app);
        time.Advance(TimeSpan.FromSeconds(30));
        var later = await PingAsync(app);
        time.Advance(TimeSpan.FromSeconds(60));
        var muchLater = await PingAsync(app);

        Assert.Equal(2, now.GetProperty("succeeded").GetInt64());
        Assert.Equal(2, Series(now)[^1]);
        Assert.Equal(2, Series(now).Sum());
        Assert.Equal(60, Series(now).Length);
        Assert.Equal(2, Series(later)[^31]);
        Assert.Equal(2, Series(later).Sum());
        Assert.Equal(0, Series(muchLater).Sum());
        Assert.Equal(2, muchLater.GetProperty("succeeded").GetInt64());
    }

    private static long[] Series(JsonElement queue) => [.. queue.GetProperty("succeededPerSecond").EnumerateArray().Select(e => e.GetInt64())];

    private static async Task<JsonElement> PingAsync(InMemoryDashboardApp app)
    {
        var (status, headers, body) = await app.SendAsync("GET", "/jobs/api/queues", IPAddress.Loopback);
        Assert.Equal(200, status);
        Assert.Equal("application/json", headers.ContentType.ToString());
        return JsonDocument.Parse(body).RootElement.EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "ping").Clone();
    }

    /// <summary>Waits until the jobs succeeded and the queue has counted them (the meter records a success after the status).</summary>
    private static async Task WaitUntilSucceededAsync(InMemoryDashboardApp app, JobId[] ids)
    {
        var monitor = app.Services.GetRequiredService<IJobQueueMonitor>();
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        foreach (var id in ids)
        {
            while ((await monitor.GetJobAsync(id, hangGuard.Token))?.State != JobState.Succeeded)
            {
                await Task.Delay(10, hangGuard.Token);
            }
        }

        while ((await PingAsync(app)).GetProperty("succeeded").GetInt64() < ids.Length)
        {
            await Task.Delay(10, hangGuard.Token);
        }
    }
}
