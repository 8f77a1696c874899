using System.Net;
using AsyncQueue.Retry;
using AsyncQueue.Samples.Tests.WebUpload;
using WebUpload;

namespace AsyncQueue.Samples.Tests.Monitoring;

/// <summary>
/// The WebUpload sample under a steady load whose jobs succeed, fail once then succeed, fail for good (and are
/// dead-lettered) or hang until the queue's timeout abandons them (see <see cref="ScriptedCompressor"/>), scraped
/// every second by a real Prometheus that evaluates docs/monitoring/asyncqueue-alerts.yml.
/// </summary>
public static class WebUploadUnderLoad
{
    /// <summary>Runs <paramref name="check"/> against the app and the Prometheus server while the load runs, then stops everything.</summary>
    public static async Task RunAsync(Func<RunningUploadApp, PrometheusServer, Task> check)
    {
        // Two attempts per job, a 2-second timeout and half a second's patience: a hanging handler is abandoned.
        await using var app = await RunningUploadApp.StartAsync(
            new ScriptedCompressor(),
            RetryPolicy.Fixed(1, TimeSpan.Zero),
            queue =>
            {
                queue.Timeout = TimeSpan.FromSeconds(2);
                queue.AbandonAfter = TimeSpan.FromMilliseconds(500);
            });
        var address = app.Client.BaseAddress!;
        await using var prometheus = await PrometheusServer.StartAsync($"{address.Host}:{address.Port}", UploadApp.MetricsPath, MonitoringFiles.AlertRules);

        using var stopLoad = new CancellationTokenSource();
        var load = UploadUntilStoppedAsync(app, stopLoad.Token);
        try
        {
            await check(app, prometheus);
        }
        finally
        {
            await stopLoad.CancelAsync();
            await load;
        }
    }

    /// <summary>Uploads one file whose job goes as <paramref name="marker"/> says (a <see cref="ScriptedCompressor"/> constant).</summary>
    public static async Task UploadAsync(RunningUploadApp app, byte marker)
    {
        using var response = await app.UploadAsync([marker, .. Guid.NewGuid().ToByteArray()], "load.bin");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>
    /// Uploads rounds of jobs that succeed, retry then succeed, and fail for good, until stopped; the first round adds
    /// one that hangs. The pause between rounds only paces the load: nothing is timed.
    /// </summary>
    private static async Task UploadUntilStoppedAsync(RunningUploadApp app, CancellationToken stop)
    {
        byte[][] round =
        [
            [ScriptedCompressor.Hang],
            [ScriptedCompressor.Compress], [ScriptedCompressor.Compress], [ScriptedCompressor.Compress],
            [ScriptedCompressor.FailOnce], [ScriptedCompressor.FailAlways],
        ];
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            foreach (var marker in first ? round : round[1..])
            {
                await UploadAsync(app, marker[0]);
            }

            first = false;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
