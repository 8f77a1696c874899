using System.Diagnostics;
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
/// These tests run alone (<see cref="RunsAlone"/>), so their totals are exact: OpenTelemetry listens to every
/// meter named <c>AsyncQueue</c> in the process, so another test's app would add to them, and when that app stops and
/// its meter is disposed, OpenTelemetry 1.20 drops the whole stream, this app's counts included
/// (open-telemetry/opentelemetry-dotnet#6412).
/// </remarks>
[Collection(nameof(RunsAlone))]
public sealed class MetricsEndpointTests(ITestOutputHelper output)
{
    /// <summary>The sample's queue: <c>AddHandler</c> names it after the job kind.</summary>
    private const string Queue = "compress-upload";

    [Fact]
    public async Task GetMetrics_AfterAnUpload_ServesTheQueueCountersInPrometheusTextFormat()
    {
        await using var app = await RunningUploadApp.StartAsync();
        await UploadAndWaitAsync(app);

        // The handler reports "succeeded" before the queue counts the completion, so read until the count is there.
        var lines = await ReadMetricsUntilAsync(app, lines => CounterValue(lines, "asyncqueue_job_completed_total") is not null);

        Assert.Contains("# TYPE asyncqueue_job_completed_total counter", lines);
        Assert.Equal(1, CounterValue(lines, "asyncqueue_job_enqueued_total"));
        Assert.Equal(1, CounterValue(lines, "asyncqueue_job_completed_total"));
    }

    [Fact]
    public async Task GetMetrics_ScrapedByARealPrometheusServer_QueriesFindTheUploadEnqueuedAndCompleted()
    {
        await using var app = await RunningUploadApp.StartAsync();
        await UploadAndWaitAsync(app);
        var address = app.Client.BaseAddress!;

        await using var prometheus = await PrometheusServer.StartAsync($"{address.Host}:{address.Port}", UploadApp.MetricsPath);

        // Scraped every second: wait for a scrape taken once the queue had settled the job (counted it, timed it and
        // freed its worker), which comes a moment after the handler reports "succeeded".
        var series = await prometheus.WaitForAsync(
            $"{{__name__=~\"asyncqueue_.+\",messaging_destination_name=\"{Queue}\"}}",
            samples => Find(samples, "asyncqueue_job_completed_total")?.Value >= 1
                && Find(samples, "asyncqueue_job_end_to_end_seconds_count")?.Value >= 1
                && Find(samples, "asyncqueue_job_in_flight")?.Value == 0);
        foreach (var sample in series.OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Labels.GetValueOrDefault("le"), StringComparer.Ordinal))
        {
            output.WriteLine($"{sample.Name}{{{string.Join(",", sample.Labels.Where(l => l.Key != "__name__").Select(l => $"{l.Key}=\"{l.Value}\""))}}} = {sample.Value.ToString(CultureInfo.InvariantCulture)}");
        }

        var up = await prometheus.QueryAsync($"up{{job=\"{PrometheusServer.JobName}\"}}");
        Assert.Equal(1, Assert.Single(up).Value);
        var completed = Assert.Single(series, s => s.Name == "asyncqueue_job_completed_total");
        Assert.Equal(1, completed.Value);
        Assert.Equal("asyncqueue", completed.Labels["messaging_system"]);
        Assert.Equal("compress-upload", completed.Labels["asyncqueue_job_kind"]);
        Assert.Equal(PrometheusServer.JobName, completed.Labels["job"]);
        Assert.Equal(1, Value(series, "asyncqueue_job_enqueued_total"));

        // The histograms (in seconds) and the gauges arrive too: one upload timed, nothing left waiting or running.
        Assert.Equal(1, Value(series, "asyncqueue_job_end_to_end_seconds_count"));
        Assert.Equal(1, Value(series, "asyncqueue_job_queue_wait_seconds_count"));
        Assert.Equal(0, Value(series, "asyncqueue_queue_depth"));
        Assert.Equal(0, Value(series, "asyncqueue_job_in_flight"));
    }

    private static async Task UploadAndWaitAsync(RunningUploadApp app)
    {
        using var response = await app.UploadAsync(new byte[50_000], "zeros.bin");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
        await app.WaitForStatusAsync(accepted.StatusUrl, "succeeded");
    }

    /// <summary>Reads <c>/metrics</c> until <paramref name="done"/> holds for its lines. The limit is a hang guard: nothing is timed.</summary>
    private static async Task<string[]> ReadMetricsUntilAsync(RunningUploadApp app, Func<string[], bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await app.Client.GetAsync(new Uri(UploadApp.MetricsPath, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            var lines = text.Split('\n');
            if (done(lines))
            {
                return lines;
            }

            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{UploadApp.MetricsPath} never showed what the test waited for. Last answer:{Environment.NewLine}{text}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    private static PrometheusSample? Find(IReadOnlyList<PrometheusSample> series, string name) => series.SingleOrDefault(sample => sample.Name == name);

    private static double Value(IReadOnlyList<PrometheusSample> series, string name) =>
        Assert.Single(series, sample => sample.Name == name).Value;

    /// <summary>The value of the sample queue's line of a counter in Prometheus text format, or <see langword="null"/>.</summary>
    private static double? CounterValue(string[] lines, string name)
    {
        var line = lines.SingleOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"messaging_destination_name=\"{Queue}\"", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}

/// <summary>Runs the metrics tests after every other test, with no other test at the same time (see <see cref="MetricsEndpointTests"/>).</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
