using System.Net.Http.Json;
using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebUpload;

namespace AsyncQueue.Dashboard.Tests.Browser;

/// <summary>
/// The WebUpload sample as it ships (its dashboard at <see cref="UploadApp.DashboardPath"/>), started in-process on
/// Kestrel at 127.0.0.1 with a free port, its storage in a fresh temporary folder, with a compressor chosen by the test
/// and no retries, so a failing upload is dead-lettered after one attempt.
/// </summary>
internal sealed class RunningUploadApp : IAsyncDisposable
{
    /// <summary>The sample's queue: <c>AddHandler</c> names it after the job kind.</summary>
    public const string Queue = "compress-upload";

    private readonly WebApplication _app;
    private readonly string _storage;

    private RunningUploadApp(WebApplication app, string storage)
    {
        _app = app;
        _storage = storage;
        Address = new Uri(app.Urls.Single());
        Client = new HttpClient { BaseAddress = Address };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    /// <summary>The dashboard's address.</summary>
    public string DashboardUrl => new Uri(Address, UploadApp.DashboardPath).ToString();

    public IJobQueueMonitor Monitor => _app.Services.GetRequiredService<IJobQueueMonitor>();

    public static async Task<RunningUploadApp> StartAsync(IUploadCompressor compressor)
    {
        var storage = Path.Combine(Path.GetTempPath(), "asyncqueue-dashboard-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(storage);
        var app = UploadApp.Build(
            ["--urls=http://127.0.0.1:0", $"--Storage:Root={storage}"],
            builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                builder.Services.AddSingleton(compressor);
                builder.Services.AddJobQueue().ConfigureQueue(Queue, queue => queue.Retry = RetryPolicy.None);
            });
        await app.StartAsync();
        return new RunningUploadApp(app, storage);
    }

    /// <summary>Uploads a small file, as <c>curl -F file=@name</c> would; returns the job's id.</summary>
    public async Task<JobId> UploadAsync(string fileName)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(new byte[1000]), UploadEndpoints.FileField, fileName);
        using var response = await Client.PostAsync(new Uri("/files", UriKind.Relative), form);
        response.EnsureSuccessStatusCode();
        var accepted = await response.Content.ReadFromJsonAsync<UploadAccepted>();
        return JobId.Parse(accepted!.JobId);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Directory.Exists(_storage))
        {
            Directory.Delete(_storage, recursive: true);
        }
    }
}
