using System.Diagnostics;
using AsyncQueue.Samples.Tests.WebUpload;
using Xunit.Abstractions;

namespace AsyncQueue.Samples.Tests.Monitoring;

/// <summary>
/// docs/monitoring/asyncqueue-alerts.yml checked and unit-tested by <c>promtool</c> (Debian package
/// <c>prometheus</c>), against the series and expected alerts of asyncqueue-alerts.test.yml.
/// </summary>
/// <remarks>Runs alone, like <see cref="MetricsEndpointTests"/>: its load test starts the WebUpload sample, whose OpenTelemetry listens to every <c>AsyncQueue</c> meter in the process.</remarks>
[Collection(nameof(RunsAlone))]
public sealed class AlertRulesTests(ITestOutputHelper output)
{
    /// <summary>A hang guard for each wait: nothing is timed.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task PromtoolCheckRules_ShippedAlertRules_AreValid()
    {
        var (exitCode, text) = await RunPromtoolAsync("check", "rules", MonitoringFiles.AlertRules);

        Assert.True(exitCode == 0, $"promtool check rules failed ({exitCode}):{Environment.NewLine}{text}");
        Assert.Contains("SUCCESS: 5 rules found", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolTestRules_ShippedAlertRules_FireExactlyAsTheUnitTestsExpect()
    {
        var (exitCode, text) = await RunPromtoolAsync("test", "rules", MonitoringFiles.AlertRuleTests);

        Assert.True(exitCode == 0, $"promtool test rules failed ({exitCode}):{Environment.NewLine}{text}");
        Assert.Contains("SUCCESS", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertRules_PrometheusScrapesWebUploadUnderLoad_DeadLetterAbandonedAndFailureRatioAlertsGoOff()
    {
        await WebUploadUnderLoad.RunAsync(async (app, prometheus) =>
        {
            // The load dead-letters a job every round and fails 3 attempts of 7 that end, and its hanging job is
            // abandoned once. A first abandon only makes the counter's series appear, which the rule takes for news
            // only on a target scraped 15 minutes ago: so a second hanging job is abandoned once Prometheus has seen
            // the first, and increase() sees it. The ratio's 'for: 5m' keeps that alert pending here.
            await prometheus.WaitForAsync("asyncqueue_job_abandoned_total", samples => samples.Any(s => s.Value >= 1));
            await WebUploadUnderLoad.UploadAsync(app, ScriptedCompressor.Hang);
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            IReadOnlyList<PrometheusAlert> alerts;
            while (true)
            {
                alerts = await prometheus.AlertsAsync();
                if (Has(alerts, "AsyncQueueJobDeadLettered", "firing") && Has(alerts, "AsyncQueueHandlerAbandoned", "firing") && Has(alerts, "AsyncQueueFailureRatioHigh", "pending"))
                {
                    break;
                }

                if (deadline.Elapsed > HangGuard)
                {
                    Assert.Fail($"The expected alerts never went off. Alerts now: {Describe(alerts)}{Environment.NewLine}Prometheus log:{Environment.NewLine}{prometheus.Log}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }

            output.WriteLine(Describe(alerts));
            var deadLettered = Assert.Single(alerts, a => a.Name == "AsyncQueueJobDeadLettered");
            Assert.Equal(RunningUploadApp.Queue, deadLettered.Labels["messaging_destination_name"]);
            Assert.Equal("compress-upload", deadLettered.Labels["asyncqueue_job_kind"]);
            Assert.Equal(RunningUploadApp.Queue, Assert.Single(alerts, a => a.Name == "AsyncQueueHandlerAbandoned").Labels["messaging_destination_name"]);
            Assert.DoesNotContain(alerts, a => a.Name == "AsyncQueueWorkerStuck");
        });
    }

    private static bool Has(IReadOnlyList<PrometheusAlert> alerts, string name, string state) =>
        alerts.Any(a => a.Name == name && a.State == state && a.Labels.GetValueOrDefault("messaging_destination_name") == RunningUploadApp.Queue);

    private static string Describe(IReadOnlyList<PrometheusAlert> alerts) =>
        alerts.Count == 0 ? "none" : string.Join("; ", alerts.Select(a => $"{a.Name} ({a.State}) {{{string.Join(", ", a.Labels.Select(l => $"{l.Key}={l.Value}"))}}}"));

    private async Task<(int ExitCode, string Output)> RunPromtoolAsync(params string[] args)
    {
        var start = new ProcessStartInfo(PrometheusServer.FindTool("promtool"))
        {
            WorkingDirectory = MonitoringFiles.Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // A hang guard, not a timing: promtool answers in well under a second.
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(hangGuard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"promtool {string.Join(' ', args)} did not exit.");
        }

        var text = await stdout + await stderr;
        output.WriteLine(text);
        return (process.ExitCode, text);
    }
}
