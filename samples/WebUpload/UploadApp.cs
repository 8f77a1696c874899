using System.Globalization;
using AsyncQueue;
using OpenTelemetry.Metrics;

namespace WebUpload;

/// <summary>Builds the web app: a job queue with a compress handler, the uploads' tokens, four endpoints, the queue's metrics at <c>/metrics</c> and its dashboard at <c>/jobs</c>.</summary>
public static class UploadApp
{
    /// <summary>How many uploads are compressed at once: the queue's <see cref="QueueOptions.MaxConcurrency"/>.</summary>
    public const int Workers = 2;

    /// <summary>Where Prometheus scrapes the queue's metrics (the meter <c>AsyncQueue</c>), in its text format.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Where the queue's browser dashboard is mapped (the AsyncQueue.Dashboard package).</summary>
    public const string DashboardPath = "/jobs";

    /// <summary>The port used when neither <c>--port</c> nor <c>--urls</c> (nor the launch profile) sets one.</summary>
    public const int DefaultPort = 5080;

    /// <summary>Builds the app; <paramref name="configure"/> runs after the sample's own registrations (tests replace services there).</summary>
    /// <param name="args">
    /// Command-line arguments: <c>--port 5081</c> (0 picks a free port; the address is logged as "Now listening on"),
    /// or <c>--urls http://127.0.0.1:5080</c>, and <c>--Storage:Root /tmp/uploads</c>.
    /// </param>
    /// <param name="configure">Changes the builder before the app is built, or <see langword="null"/>.</param>
    /// <returns>The app, not yet started.</returns>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        // --port wins over --urls and the launch profile; with neither, loopback on the default port.
        if (builder.Configuration["port"] is { } port)
        {
            if (!ushort.TryParse(port, CultureInfo.InvariantCulture, out var number))
            {
                throw new ArgumentException($"--port needs a port number from 0 to 65535 (0 picks a free one), but got '{port}'.", nameof(args));
            }

            builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{number}"));
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{DefaultPort}"));
        }

        // With no Storage:Root, a fresh temporary folder that is deleted when the app stops; a folder given is kept.
        var root = builder.Configuration["Storage:Root"];
        builder.Services.AddSingleton(string.IsNullOrEmpty(root)
            ? new UploadStorage(Path.Combine(Path.GetTempPath(), "asyncqueue-webupload-" + Guid.NewGuid().ToString("N")[..8]), temporary: true)
            : new UploadStorage(root, temporary: false));
        builder.Services.AddSingleton<UploadTokens>();
        builder.Services.AddSingleton<IUploadCompressor, GZipUploadCompressor>();
        builder.Services.AddJobQueue()
            .AddHandler<CompressUpload, CompressUploadHandler>(queue =>
            {
                queue.MaxConcurrency = Workers;

                // The status page asks for finished uploads too; the in-memory store keeps those only when asked.
                queue.FinishedJobCapacity = 10_000;
            });

        // The dashboard checks an antiforgery token on each of its actions (pause, requeue, ...).
        builder.Services.AddAntiforgery();

        // The queue's counters, histograms and gauges, served to Prometheus by OpenTelemetry's exporter.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("AsyncQueue").AddPrometheusExporter());
        configure?.Invoke(builder);

        var app = builder.Build();
        var storage = app.Services.GetRequiredService<UploadStorage>();
        Log.Storage(app.Logger, storage.Incoming, storage.Compressed, storage.Temporary ? "deleted when the app stops" : "kept");
        if (storage.Temporary)
        {
            // After the host has stopped, so no worker is still writing a result.
            app.Lifetime.ApplicationStopped.Register(storage.Delete);
        }

        app.MapGet("/", () => "AsyncQueue WebUpload sample. Upload: curl -F file=@photo.jpg <this address>/files, then GET the statusUrl it returns.\n");
        app.MapPost("/files", UploadEndpoints.UploadAsync);
        app.MapGet("/uploads/{token}", UploadEndpoints.GetStatusAsync);
        app.MapGet("/uploads/{token}/result", UploadEndpoints.GetResultAsync);
        app.MapDelete("/uploads/{token}", UploadEndpoints.CancelAsync);
        app.MapPrometheusScrapingEndpoint(MetricsPath);

        // The queue's dashboard. The sample has no users, so no authorization policy: the dashboard then answers only
        // requests from this machine (loopback). A real app adds .RequireAuthorization("its-admin-policy").
        app.MapJobQueueDashboard(DashboardPath);
        return app;
    }
}
