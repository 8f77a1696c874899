using System.Diagnostics;
using AsyncQueue.Samples.Tests.WebUpload;
using Xunit.Abstractions;

namespace AsyncQueue.Samples.Tests.Monitoring;

/// <summary>
/// docs/monitoring/asyncqueue-alerts.yml checked and unit-tested by <c>promtool</c> (Debian package
/// <c>prometheus</c>), against the series and expected alerts of asyncqueue-alerts.test.yml.
/// </summary>
public sealed class AlertRulesTests(ITestOutputHelper output)
{
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
