using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using AsyncQueue.Retry;
using WebUpload;

namespace AsyncQueue.Samples.Tests.WebUpload;

/// <summary>The WebUpload sample over real HTTP: upload, 202 at once, background compression, status, result, cancel.</summary>
public sealed class UploadEndpointsTests
{
    [Fact]
    public async Task PostFiles_CompressionHeldByTest_Answers202BeforeTheJobFinishes()
    {
        var gate = new CompressorGate();
        await using var app = await StartAsync(gate);
        var upload = Upload(100_000, seed: 1);

        using var response = await app.UploadAsync(upload, "holiday.jpg");

        // The compressor cannot finish until the gate opens, so this 202 came before the work was done.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
        Assert.Equal("queued", accepted.Status);
        Assert.Equal($"/uploads/{accepted.Token}", accepted.StatusUrl);
        Assert.Equal(accepted.StatusUrl, response.Headers.Location?.OriginalString);

        Assert.True(await gate.WaitForHeldAsync(1), "The job never reached the compressor.");
        var running = await app.GetStatusAsync(accepted.StatusUrl);
        Assert.Equal("running", running.Status);
        Assert.Null(running.ResultUrl);
        using (var early = await app.Client.GetAsync(new Uri(accepted.StatusUrl + "/result", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        }

        gate.Release();
        var done = await app.WaitForStatusAsync(accepted.StatusUrl, "succeeded");

        Assert.Equal(accepted.JobId, done.JobId);
        Assert.Equal("holiday.jpg", done.FileName);
        Assert.Equal(upload.Length, done.Size);
        Assert.Equal(1, done.Attempt);
        Assert.Null(done.Error);
        var result = await app.Client.GetByteArrayAsync(new Uri(done.ResultUrl!, UriKind.Relative));
        Assert.Equal(done.CompressedSize, result.Length);
        Assert.Equal(upload, Decompress(result));
        Assert.Equal(upload, Decompress(File.ReadAllBytes(Assert.Single(Directory.GetFiles(app.Storage.Compressed)))));
        Assert.Empty(Directory.GetFiles(app.Storage.Incoming));
    }

    [Fact]
    public async Task GetJob_EveryWorkerBusy_ReportsTheNextUploadQueuedUntilAWorkerIsFree()
    {
        var gate = new CompressorGate();
        await using var app = await StartAsync(gate);
        var uploads = Enumerable.Range(0, UploadApp.Workers + 1).Select(i => Upload(10_000, seed: i)).ToArray();

        var statusUrls = new List<string>();
        foreach (var upload in uploads)
        {
            using var response = await app.UploadAsync(upload);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            statusUrls.Add((await response.Content.ReadFromJsonAsync<UploadAccepted>())!.StatusUrl);
        }

        // Both workers hold a job at the gate, so the last upload cannot have started.
        Assert.True(await gate.WaitForHeldAsync(UploadApp.Workers), "The workers never took the first uploads.");
        Assert.Equal(["running", "running", "queued"], await Task.WhenAll(statusUrls.Select(async url => (await app.GetStatusAsync(url)).Status)));

        gate.Release();
        for (var i = 0; i < uploads.Length; i++)
        {
            var done = await app.WaitForStatusAsync(statusUrls[i], "succeeded");
            Assert.Equal(uploads[i], Decompress(await app.Client.GetByteArrayAsync(new Uri(done.ResultUrl!, UriKind.Relative))));
        }
    }

    [Fact]
    public async Task GetUpload_Succeeded_ReportsTheQueuesStatusWithTheResultTheHandlerSet()
    {
        await using var app = await StartAsync();
        var upload = Upload(20_000, seed: 3);
        var accepted = await AcceptedAsync(app, upload, "report.pdf");

        var done = await app.WaitForStatusAsync(accepted.StatusUrl, "succeeded");

        // The endpoint reports what the queue knows: its state and attempt, and the result the handler set.
        var job = await app.Monitor.GetJobAsync(JobId.Parse(accepted.JobId));
        Assert.NotNull(job);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(1, job.Attempt);
        Assert.Empty(job.Errors);
        var result = CompressedUpload.FromJson(job.Result)!;
        Assert.Equal(UploadTokens.KeyOf(accepted.Token) + ".gz", result.StoredAs);
        Assert.Equal("report.pdf", result.FileName);
        Assert.Equal(upload.Length, result.Size);
        Assert.Equal(new FileInfo(Path.Combine(app.Storage.Compressed, result.StoredAs)).Length, result.CompressedSize);
        Assert.Equal(new JobStatusResponse(accepted.JobId, "succeeded", "report.pdf", upload.Length, 1, result.CompressedSize, accepted.StatusUrl + "/result", null, null), done);
        using var download = await app.Client.GetAsync(new Uri(done.ResultUrl!, UriKind.Relative));
        Assert.Equal("report.pdf.gz", download.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(upload, Decompress(await download.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task GetUpload_CompressionFailsWithARetryToCome_ReportsFailedWillRetryWithTheErrorAndServesNoResult()
    {
        // A retry an hour away: the job stays "failed-will-retry" for as long as the test looks.
        await using var app = await StartAsync(new FailingCompressor(), new RetryPolicy { Delay = TimeSpan.FromHours(1), Jitter = 0 });
        var accepted = await AcceptedAsync(app, Upload(5_000, seed: 7));

        var failed = await app.WaitForStatusAsync(accepted.StatusUrl, "failed-will-retry");

        Assert.Equal(FailingCompressor.Message, failed.Error);
        Assert.Equal(1, failed.Attempt);
        Assert.NotNull(failed.NextAttemptAt);
        Assert.Null(failed.ResultUrl);
        using var result = await app.Client.GetAsync(new Uri(accepted.StatusUrl + "/result", UriKind.Relative));
        await AssertProblemAsync(result, HttpStatusCode.Conflict, "No result yet");
        Assert.Empty(Directory.GetFiles(app.Storage.Compressed));

        // The saved upload stays for the retry.
        Assert.Single(Directory.GetFiles(app.Storage.Incoming));
    }

    [Fact]
    public async Task GetUpload_CompressionFailsWithNoRetries_ReportsDeadLetteredWithTheError()
    {
        await using var app = await StartAsync(new FailingCompressor(), RetryPolicy.None);
        var accepted = await AcceptedAsync(app, Upload(5_000, seed: 8));

        var failed = await app.WaitForStatusAsync(accepted.StatusUrl, "dead-lettered");

        Assert.Equal(FailingCompressor.Message, failed.Error);
        Assert.Equal(1, failed.Attempt);
        Assert.Null(failed.NextAttemptAt);
        Assert.Null(failed.ResultUrl);
        using var result = await app.Client.GetAsync(new Uri(accepted.StatusUrl + "/result", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, result.StatusCode);
        using var cancel = await app.CancelAsync(accepted.StatusUrl);
        var problem = await AssertProblemAsync(cancel, HttpStatusCode.Conflict, "Already finished");
        Assert.Contains("dead-lettered", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteUpload_WaitingForAWorker_Returns200CancelledDeletesTheUploadAndTheJobNeverRuns()
    {
        var gate = new CompressorGate();
        await using var app = await StartAsync(gate);
        var busy = new List<UploadAccepted>();
        for (var i = 0; i < UploadApp.Workers; i++)
        {
            busy.Add(await AcceptedAsync(app, Upload(1_000, seed: i)));
        }

        Assert.True(await gate.WaitForHeldAsync(UploadApp.Workers), "The workers never took the first uploads.");
        var waiting = await AcceptedAsync(app, Upload(1_000, seed: 9));
        Assert.Equal("queued", (await app.GetStatusAsync(waiting.StatusUrl)).Status);

        using var response = await app.CancelAsync(waiting.StatusUrl);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cancelled", (await response.Content.ReadFromJsonAsync<JobStatusResponse>())!.Status);
        Assert.False(File.Exists(app.Storage.UploadPath(UploadTokens.KeyOf(waiting.Token))), "The cancelled upload's saved file is still there.");

        // The workers move on to nothing: the cancelled upload never reaches the compressor.
        gate.Release();
        foreach (var upload in busy)
        {
            await app.WaitForStatusAsync(upload.StatusUrl, "succeeded");
        }

        await app.Monitor.WaitForIdleAsync(RunningUploadApp.Queue);
        var cancelled = await app.GetStatusAsync(waiting.StatusUrl);
        Assert.Equal("cancelled", cancelled.Status);
        Assert.Equal(0, cancelled.Attempt);
        Assert.Equal(UploadApp.Workers, Directory.GetFiles(app.Storage.Compressed).Length);
        Assert.Empty(Directory.GetFiles(app.Storage.Incoming));

        using var again = await app.CancelAsync(waiting.StatusUrl);
        var problem = await AssertProblemAsync(again, HttpStatusCode.Conflict, "Already finished");
        Assert.Contains("cancelled", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteUpload_Running_Returns202AndTheHandlerStopsAtItsTokenAndTheUploadEndsCancelled()
    {
        var gate = new CompressorGate();
        await using var app = await StartAsync(gate);
        var accepted = await AcceptedAsync(app, Upload(50_000, seed: 4));
        Assert.True(await gate.WaitForHeldAsync(1), "The job never reached the compressor.");

        using var response = await app.CancelAsync(accepted.StatusUrl);

        // Accepted: the handler's token is cancelled, and the job ends when the handler stops.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(accepted.StatusUrl, response.Headers.Location?.OriginalString);
        var cancelled = await app.WaitForStatusAsync(accepted.StatusUrl, "cancelled");
        Assert.Equal(1, cancelled.Attempt);
        Assert.Null(cancelled.Error);
        Assert.Null(cancelled.ResultUrl);
        var job = await app.Monitor.GetJobAsync(JobId.Parse(accepted.JobId));
        Assert.Equal(JobState.Cancelled, job?.State);

        // Never retried, and the handler deleted both the partial result and the saved upload on its way out.
        await app.Monitor.WaitForIdleAsync(RunningUploadApp.Queue);
        Assert.Equal("cancelled", (await app.GetStatusAsync(accepted.StatusUrl)).Status);
        Assert.Empty(Directory.GetFiles(app.Storage.Compressed));
        Assert.Empty(Directory.GetFiles(app.Storage.Incoming));
        using var result = await app.Client.GetAsync(new Uri(accepted.StatusUrl + "/result", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Conflict, result.StatusCode);
    }

    [Fact]
    public async Task PostFiles_FormWithoutAFile_Returns400ThatNamesTheField()
    {
        await using var app = await StartAsync();
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "comment" } };

        using var response = await app.Client.PostAsync(new Uri("/files", UriKind.Relative), form);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "No file uploaded");
        Assert.Contains("field named 'file'", problem.Detail, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(app.Storage.Incoming));
    }

    [Fact]
    public async Task PostFiles_NotAForm_Returns400ThatSaysWhatToSend()
    {
        await using var app = await StartAsync();
        using var body = new StringContent("{\"file\":\"photo.jpg\"}", Encoding.UTF8, "application/json");

        using var response = await app.Client.PostAsync(new Uri("/files", UriKind.Relative), body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "No file uploaded");
        Assert.Contains("not a form", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("multipart/form-data", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostFiles_EmptyFile_Returns400()
    {
        await using var app = await StartAsync();

        using var response = await app.UploadAsync([], "empty.txt");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "Empty file");
        Assert.Contains("'empty.txt' is empty", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "not-a-token")]
    [InlineData("GET", "WfwB3i1AE8Yg6MhH99BjcNUcIxWhv66bPSzFk0GAsQU")]
    [InlineData("GET", "WfwB3i1AE8Yg6MhH99BjcNUcIxWhv66bPSzFk0GAsQU/result")]
    [InlineData("DELETE", "not-a-token")]
    [InlineData("DELETE", "WfwB3i1AE8Yg6MhH99BjcNUcIxWhv66bPSzFk0GAsQU")]
    public async Task Upload_UnknownToken_Returns404(string method, string path)
    {
        await using var app = await StartAsync();
        await AcceptedAsync(app, Upload(1_000, seed: 5));

        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri($"/uploads/{path}", UriKind.Relative));
        using var response = await app.Client.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.NotFound, "Unknown upload");
    }

    [Fact]
    public async Task GetUpload_OtherUploadsJobIdsGuessedFromOnesOwn_OpenNothing()
    {
        // Job ids come in per-thread blocks of a per-process prefix, so from one's own id the others are easy to
        // enumerate. An attacker uploads once, then tries the ids around its own, and the victim's real id too (as if
        // read from a log line or a shared screenshot): none of them opens anything.
        await using var app = await StartAsync();
        var mine = await AcceptedAsync(app, Upload(1_000, seed: 1));
        var victim = await AcceptedAsync(app, Upload(1_000, seed: 2));
        var victimDone = await app.WaitForStatusAsync(victim.StatusUrl, "succeeded");
        await app.WaitForStatusAsync(mine.StatusUrl, "succeeded");

        var guesses = Enumerable.Range(-4, 9).Select(step => Neighbour(mine.JobId, step)).Append(victim.JobId).ToList();
        foreach (var guess in guesses)
        {
            using var status = await app.Client.GetAsync(new Uri($"/uploads/{guess}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
            using var result = await app.Client.GetAsync(new Uri($"/uploads/{guess}/result", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, result.StatusCode);
            using var cancel = await app.CancelAsync($"/uploads/{guess}");
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        }

        // Nothing was cancelled by the guesses.
        Assert.Equal("succeeded", (await app.GetStatusAsync(victim.StatusUrl)).Status);

        // Only the victim's own token opens it, and the two tokens share nothing a guesser could step through.
        Assert.NotEqual(mine.Token, victim.Token);
        Assert.Equal(43, victim.Token.Length);
        Assert.Equal(victim.JobId, victimDone.JobId);
        Assert.DoesNotContain(victim.JobId, victim.StatusUrl, StringComparison.Ordinal);
    }

    private static async Task<UploadAccepted> AcceptedAsync(RunningUploadApp app, byte[] upload, string fileName = "photo.jpg")
    {
        using var response = await app.UploadAsync(upload, fileName);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<UploadAccepted>())!;
    }

    // The id "step" places after (or before) the given one: as JobId prints, the process prefix, then the counter in 16 hex digits.
    private static string Neighbour(string jobId, int step)
    {
        var counter = ulong.Parse(jobId[16..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return jobId[..16] + unchecked(counter + (ulong)step).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<RunningUploadApp> StartAsync(IUploadCompressor? compressor = null, IRetryPolicy? retry = null) => RunningUploadApp.StartAsync(compressor, retry);

    private static async Task<Problem> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<Problem>())!;
        Assert.Equal((int)status, problem.Status);
        Assert.Equal(title, problem.Title);
        return problem;
    }

    private static byte[] Upload(int length, int seed)
    {
#pragma warning disable CA5394 // Test data, not security: seeded so every run uploads the same bytes.
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }

    private static byte[] Decompress(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private sealed record Problem(int Status, string Title, string Detail);
}
