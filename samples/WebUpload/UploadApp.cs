using AsyncQueue;
using OpenTelemetry.Metrics;

namespace WebUpload;

/// <summary>Builds the web app: a job queue with a compress handler, a status board, three endpoints, and the queue's metrics at <c>/metrics</c>.</summary>
public static class UploadApp
{
    /// <summary>How many uploads are compressed at once: the queue's <see cref="QueueOptions.MaxConcurrency"/>.</summary>
    public const int Workers = 2;

    /// <summary>Where Prometheus scrapes the queue's metrics (the meter <c>AsyncQueue</c>), in its text format.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Builds the app; <paramref name="configure"/> runs after the sample's own registrations (tests replace services there).</summary>
    /// <param name="args">Command-line arguments, e.g. <c>--urls http://127.0.0.1:5080 --Storage:Root /tmp/uploads</c>.</param>
    /// <param name="configure">Changes the builder before the app is built, or <see langword="null"/>.</param>
    /// <returns>The app, not yet started.</returns>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        var root = builder.Configuration["Storage:Root"];
        builder.Services.AddSingleton(new UploadStorage(string.IsNullOrEmpty(root) ? Path.Combine(Path.GetTempPath(), "asyncqueue-webupload") : root));
        builder.Services.AddSingleton<JobStatusBoard>();
        builder.Services.AddSingleton<IUploadCompressor, GZipUploadCompressor>();
        builder.Services.AddJobQueue()
            .AddHandler<CompressUpload, CompressUploadHandler>(queue => queue.MaxConcurrency = Workers);

        // The queue's counters, histograms and gauges, served to Prometheus by OpenTelemetry's exporter.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("AsyncQueue").AddPrometheusExporter());
        configure?.Invoke(builder);

        var app = builder.Build();
        var storage = app.Services.GetRequiredService<UploadStorage>();
        Log.Storage(app.Logger, storage.Incoming, storage.Compressed);
        app.MapGet("/", () => "AsyncQueue WebUpload sample. Upload: curl -F file=@photo.jpg <this address>/files, then GET the statusUrl it returns.\n");
        app.MapPost("/files", UploadEndpoints.UploadAsync);
        app.MapGet("/jobs/{id}", UploadEndpoints.GetStatus);
        app.MapGet("/jobs/{id}/result", UploadEndpoints.GetResult);
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
