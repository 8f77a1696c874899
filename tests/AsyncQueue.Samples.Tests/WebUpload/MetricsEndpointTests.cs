using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using WebUpload;
using Xunit.Abstractions;

namespace AsyncQueue.Samples.Tests.WebUpload;

/// <summary>
/// The sample's <c>/metrics</c>: OpenTelemetry's Prometheus exporter serving the <c>AsyncQueue</c> meter, read as
/// text and scraped by a real Prometheus server.
/// </summary>
/// <remarks>
/// OpenTelemetry listens to every meter named <c>AsyncQueue</c> in the process, so apps that other tests run at the
/// same time may add to these counters: the tests check lower bounds (at least this test's upload), never exact totals.
/// </remarks>
public sealed class MetricsEndpointTests(ITestOutputHelper output)
{
    /// <summary>The sample's queue: <c>AddHandler</c> names it after the job kind.</summary>
    private const string Queue = "compress-upload";

    [Fact]
    public async Task GetMetrics_AfterAnUpload_ServesTheQueueCountersInPrometheusTextFormat()
    {
        await using var app = await RunningUploadApp.StartAsync();
        await UploadAndWaitAsync(app);

        using var response = await app.Client.GetAsync(new Uri(UploadApp.MetricsPath, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');
        Assert.Contains("# TYPE asyncqueue_job_completed_total counter", lines);
        Assert.True(CounterValue(lines, "asyncqueue_job_enqueued_total") >= 1, "No enqueue counted.");
        Assert.True(CounterValue(lines, "asyncqueue_job_completed_total") >= 1, "No completion counted.");
    }

    [Fact]
    public async Task GetMetrics_ScrapedByARealPrometheusServer_QueriesFindTheUploadEnqueuedAndCompleted()
    {
        await using var app = await RunningUploadApp.StartAsync();
        await UploadAndWaitAsync(app);
        var address = app.Client.BaseAddress!;

        await using var prometheus = await PrometheusServer.StartAsync($"{address.Host}:{address.Port}", UploadApp.MetricsPath);

        // Scraped every second: wait for a scrape that came after the upload finished.
        var completed = await prometheus.WaitForAsync($"asyncqueue_job_completed_total{{messaging_destination_name=\"{Queue}\"}}", sample => sample.Value >= 1);
        var enqueued = await prometheus.QueryAsync($"asyncqueue_job_enqueued_total{{messaging_destination_name=\"{Queue}\"}}");
        var up = await prometheus.QueryAsync($"up{{job=\"{PrometheusServer.JobName}\"}}");
        var series = await prometheus.QueryAsync($"{{__name__=~\"asyncqueue_.+\",messaging_destination_name=\"{Queue}\"}}");
        foreach (var sample in series.OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Labels.GetValueOrDefault("le"), StringComparer.Ordinal))
        {
            output.WriteLine($"{sample.Name}{{{string.Join(",", sample.Labels.Where(l => l.Key != "__name__").Select(l => $"{l.Key}=\"{l.Value}\""))}}} = {sample.Value.ToString(CultureInfo.InvariantCulture)}");
        }

        Assert.Equal(1, Assert.Single(up).Value);
        var done = Assert.Single(completed);
        Assert.Equal("asyncqueue", done.Labels["messaging_system"]);
        Assert.Equal("compress-upload", done.Labels["asyncqueue_job_kind"]);
        Assert.Equal(PrometheusServer.JobName, done.Labels["job"]);
        Assert.True(Assert.Single(enqueued).Value >= 1, "Prometheus holds no enqueue for the completed upload.");
        var names = series.Select(s => s.Name).ToHashSet();
        Assert.Superset(
            new HashSet<string>
            {
                "asyncqueue_job_enqueued_total",
                "asyncqueue_job_completed_total",
                "asyncqueue_job_end_to_end_seconds_count",
                "asyncqueue_job_queue_wait_seconds_count",
                "asyncqueue_job_in_flight",
                "asyncqueue_queue_depth",
            },
            names);
    }

    private static async Task UploadAndWaitAsync(RunningUploadApp app)
    {
        using var response = await app.UploadAsync(new byte[50_000], "zeros.bin");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
        await app.WaitForStatusAsync(accepted.StatusUrl, "succeeded");
    }

    /// <summary>The value of the sample queue's line of a counter in Prometheus text format, or <see langword="null"/>.</summary>
    private static double? CounterValue(string[] lines, string name)
    {
        var line = lines.SingleOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"messaging_destination_name=\"{Queue}\"", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
