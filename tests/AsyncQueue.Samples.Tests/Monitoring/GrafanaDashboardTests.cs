using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AsyncQueue.Retry;
using AsyncQueue.Samples.Tests.WebUpload;
using WebUpload;
using Xunit.Abstractions;

namespace AsyncQueue.Samples.Tests.Monitoring;

/// <summary>
/// docs/monitoring/asyncqueue-dashboard.json: it parses, every panel queries the dashboard's data source variable,
/// and every PromQL expression in it returns data from a real Prometheus that scrapes the WebUpload sample while
/// uploads succeed, retry, fail, are dead-lettered and are abandoned. The dashboard and the alert rules name only
/// metrics that scrape found.
/// </summary>
/// <remarks>Runs alone, like <see cref="MetricsEndpointTests"/>, and for the same reason: OpenTelemetry listens to every <c>AsyncQueue</c> meter in the process.</remarks>
[Collection(nameof(RunsAlone))]
public sealed partial class GrafanaDashboardTests(ITestOutputHelper output)
{
    /// <summary>What Grafana's <c>$__rate_interval</c> becomes here: wide enough for several 1-second scrapes.</summary>
    private const string RateInterval = "1m";

    [Fact]
    public void Dashboard_Parsed_HasADataSourceVariableThatEveryPanelQueries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(MonitoringFiles.Dashboard));
        var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        var datasource = Assert.Single(variables, v => v.GetProperty("type").GetString() == "datasource");
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());
        var name = datasource.GetProperty("name").GetString();

        var panels = Panels(dashboard.RootElement).Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.NotEmpty(panels);
        Assert.All(panels, panel =>
        {
            Assert.Equal($"${{{name}}}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.Equal($"${{{name}}}", t.GetProperty("datasource").GetProperty("uid").GetString()));
        });
    }

    [Fact]
    public async Task DashboardQueries_PrometheusScrapesWebUploadUnderLoad_EachReturnsData()
    {
        await WebUploadUnderLoad.RunAsync(async (upload, prometheus) =>
        {
            using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(MonitoringFiles.Dashboard));

            // The variables first: each offers the sample's value, which the panels' queries then use.
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
            {
                var name = variable.GetProperty("name").GetString()!;
                var match = LabelValues().Match(variable.GetProperty("query").GetProperty("query").GetString()!);
                Assert.True(match.Success, $"Variable {name}: only label_values(<selector>, <label>) queries are expected.");
                var selector = Substitute(match.Groups["selector"].Value, values);
                var label = match.Groups["label"].Value;
                var samples = await prometheus.WaitForAsync(selector, s => s.Any(sample => sample.Labels.ContainsKey(label)));
                values[name] = Assert.Single(samples.Select(s => s.Labels[label]).Distinct());
                output.WriteLine($"${name} = {values[name]}  ({selector})");
            }

            Assert.Equal(PrometheusServer.JobName, values["job"]);
            Assert.Equal(RunningUploadApp.Queue, values["queue"]);

            foreach (var panel in Panels(dashboard.RootElement).Where(p => p.TryGetProperty("targets", out _)))
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    var expr = Substitute(target.GetProperty("expr").GetString()!, values);
                    var samples = await prometheus.WaitForAsync(expr, s => s.Any(sample => !double.IsNaN(sample.Value)));
                    output.WriteLine($"{panel.GetProperty("title").GetString()} [{target.GetProperty("refId").GetString()}]: {string.Join(", ", samples.Select(s => s.Value.ToString(CultureInfo.InvariantCulture)))}");
                }
            }

            // Every metric the dashboard and the alert rules select is one this scrape found: the library exports it.
            var scraped = (await prometheus.QueryAsync($"group by (__name__) ({{job=\"{PrometheusServer.JobName}\"}})")).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            output.WriteLine("Scraped: " + string.Join(", ", scraped.Order(StringComparer.Ordinal)));
            foreach (var file in new[] { MonitoringFiles.Dashboard, MonitoringFiles.AlertRules })
            {
                var named = Selected().Matches(await File.ReadAllTextAsync(file)).Select(m => m.Groups["name"].Value).Where(n => n != "up").ToHashSet(StringComparer.Ordinal);
                Assert.NotEmpty(named);
                Assert.All(named, name => Assert.True(scraped.Contains(name), $"{Path.GetFileName(file)} selects '{name}', which the WebUpload sample does not export."));
            }
        });
    }

    /// <summary>Grafana's variables as the dashboard would fill them: the selected values and the rate interval.</summary>
    private static string Substitute(string expr, IReadOnlyDictionary<string, string> values)
    {
        var result = expr.Replace("$__rate_interval", RateInterval, StringComparison.Ordinal);
        foreach (var (name, value) in values)
        {
            result = result.Replace("$" + name, value, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("$", result, StringComparison.Ordinal);
        return result;
    }

    /// <summary>Every panel, those inside rows included.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\)$")]
    private static partial Regex LabelValues();

    /// <summary>A metric selected by name: the name right before its label matchers.</summary>
    [GeneratedRegex(@"\b(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{")]
    private static partial Regex Selected();
}
