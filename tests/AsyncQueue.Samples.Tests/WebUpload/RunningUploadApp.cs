using System.Net.Http.Json;
using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebUpload;

namespace AsyncQueue.Samples.Tests.WebUpload;

/// <summary>The WebUpload app started in-process on Kestrel, on 127.0.0.1 with a free port, with its own storage folder.</summary>
public sealed class RunningUploadApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IUploadCompressor? _compressor;
    private readonly TempFolder _storage;

    private RunningUploadApp(WebApplication app, IUploadCompressor? compressor, TempFolder storage)
    {
        _app = app;
        _compressor = compressor;
        _storage = storage;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
    }

    public HttpClient Client { get; }

    public UploadStorage Storage => _app.Services.GetRequiredService<UploadStorage>();

    /// <summary>Gets the app's job queue monitor, to compare what the endpoints say with what the queue knows.</summary>
    public IJobQueueMonitor Monitor => _app.Services.GetRequiredService<IJobQueueMonitor>();

    /// <summary>The sample's queue: <c>AddHandler</c> names it after the job kind.</summary>
    public const string Queue = "compress-upload";

    /// <summary>
    /// Starts the app; <paramref name="compressor"/>, when given, replaces the sample's GZip compressor,
    /// <paramref name="retry"/> the queue's retry policy (the default waits seconds between attempts), and
    /// <paramref name="configureQueue"/> changes the queue's other options (a timeout, for example).
    /// </summary>
    public static async Task<RunningUploadApp> StartAsync(IUploadCompressor? compressor = null, IRetryPolicy? retry = null, Action<QueueOptions>? configureQueue = null)
    {
        var storage = new TempFolder();
        var app = UploadApp.Build(
            ["--urls=http://127.0.0.1:0", $"--Storage:Root={storage.Path}"],
            builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                if (compressor is not null)
                {
                    builder.Services.AddSingleton(compressor);
                }

                if (retry is not null)
                {
                    builder.Services.AddJobQueue().ConfigureQueue(Queue, queue => queue.Retry = retry);
                }

                if (configureQueue is not null)
                {
                    builder.Services.AddJobQueue().ConfigureQueue(Queue, configureQueue);
                }
            });
        await app.StartAsync();
        return new RunningUploadApp(app, compressor, storage);
    }

    /// <summary>Uploads <paramref name="content"/> as the multipart field <c>file</c>.</summary>
    public async Task<HttpResponseMessage> UploadAsync(byte[] content, string fileName = "photo.jpg")
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), UploadEndpoints.FileField, fileName);
        return await Client.PostAsync(new Uri("/files", UriKind.Relative), form);
    }

    /// <summary>Sends <c>DELETE</c> to a status URL: the upload's cancel.</summary>
    public Task<HttpResponseMessage> CancelAsync(string statusUrl) => Client.DeleteAsync(new Uri(statusUrl, UriKind.Relative));

    public async Task<JobStatusResponse> GetStatusAsync(string statusUrl) =>
        (await Client.GetFromJsonAsync<JobStatusResponse>(new Uri(statusUrl, UriKind.Relative)))!;

    /// <summary>Polls the status URL until the job reports <paramref name="status"/>. The limit is a hang guard: nothing is timed.</summary>
    public async Task<JobStatusResponse> WaitForStatusAsync(string statusUrl, string status)
    {
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var current = await GetStatusAsync(statusUrl);
        while (current.Status != status)
        {
            if (hangGuard.IsCancellationRequested)
            {
                throw new TimeoutException($"Job {current.JobId} never became {status}; it is {current.Status}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
            current = await GetStatusAsync(statusUrl);
        }

        return current;
    }

    public async ValueTask DisposeAsync()
    {
        (_compressor as IDisposable)?.Dispose();
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _storage.Dispose();
    }
}
