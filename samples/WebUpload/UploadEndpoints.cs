using AsyncQueue;
using AsyncQueue.Monitoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace WebUpload;

/// <summary>The answer to an upload: the token that opens its status and result, where to follow it, and the job's id.</summary>
/// <param name="Token">The upload's unguessable token: whoever holds it can read the status and download the result.</param>
/// <param name="Status">Always <c>queued</c>.</param>
/// <param name="StatusUrl"><c>/uploads/{token}</c>.</param>
/// <param name="JobId">The queue's job id, for logs and support. Not a secret, and it opens nothing.</param>
public sealed record UploadAccepted(string Token, string Status, string StatusUrl, string JobId);

/// <summary>The answer to <c>GET /uploads/{token}</c>, made from the queue's <see cref="JobInfo"/>.</summary>
/// <param name="JobId">The queue's job id, for logs and support.</param>
/// <param name="Status"><c>queued</c>, <c>running</c>, <c>failed-will-retry</c>, <c>succeeded</c>, <c>dead-lettered</c> or <c>cancelled</c>.</param>
/// <param name="FileName">The upload's name, from the job's result: set once it has <c>succeeded</c>.</param>
/// <param name="Size">The upload's length in bytes, from the job's result: set once it has <c>succeeded</c>.</param>
/// <param name="Attempt">How many attempts have started.</param>
/// <param name="CompressedSize">The <c>.gz</c> file's length, once it has <c>succeeded</c>.</param>
/// <param name="ResultUrl"><c>/uploads/{token}/result</c>, once it has <c>succeeded</c>.</param>
/// <param name="Error">The last attempt's error, while it is <c>failed-will-retry</c> or once <c>dead-lettered</c>.</param>
/// <param name="NextAttemptAt">When the next attempt may start, while it is <c>failed-will-retry</c>.</param>
public sealed record JobStatusResponse(string JobId, string Status, string? FileName, long? Size, int Attempt, long? CompressedSize, string? ResultUrl, string? Error, DateTimeOffset? NextAttemptAt);

/// <summary>
/// The endpoints. An upload is saved and enqueued, and answered at once with 202 and a token; a worker compresses it
/// later. Status, result and cancel are addressed by the token, never by the job id, which is guessable (see
/// <see cref="UploadTokens"/>); what became of the job is the queue's own status (<see cref="IJobQueueMonitor.GetJobAsync"/>).
/// </summary>
public static class UploadEndpoints
{
    /// <summary>The multipart field that carries the file.</summary>
    public const string FileField = "file";

    private const string HowToUpload = "Send multipart/form-data with the file in a field named 'file', e.g. curl -F file=@photo.jpg http://127.0.0.1:5080/files (your port may differ)";

    /// <summary><c>POST /files</c>: saves the upload, enqueues its compression, answers 202 Accepted with the job's status URL.</summary>
    public static async Task<IResult> UploadAsync(HttpRequest request, IJobQueue jobs, UploadTokens tokens, UploadStorage storage, CancellationToken cancellationToken)
    {
        // The form is read by hand rather than bound to an IFormFile parameter, so a missing file gets a 400 that says what to send.
        if (!request.HasFormContentType)
        {
            return Problem(StatusCodes.Status400BadRequest, "No file uploaded", $"The request is not a form (Content-Type: {(string.IsNullOrEmpty(request.ContentType) ? "none" : request.ContentType)}). {HowToUpload}.");
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed form", $"{ex.Message} {HowToUpload}.");
        }

        var file = form.Files.GetFile(FileField);
        if (file is null)
        {
            var others = form.Files.Count == 0 ? "The form has no file." : $"The form has files only in other fields: {string.Join(", ", form.Files.Select(f => $"'{f.Name}'"))}.";
            return Problem(StatusCodes.Status400BadRequest, "No file uploaded", $"{others} {HowToUpload}.");
        }

        if (file.Length == 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Empty file", $"The file '{file.FileName}' is empty: there is nothing to compress.");
        }

        // The token is made first: its key names the saved upload, so a cancel can find the file with the token alone.
        var token = UploadTokens.NewToken();
        var job = await storage.SaveAsync(file, UploadTokens.KeyOf(token), cancellationToken);
        EnqueueResult enqueued;
        try
        {
            enqueued = await jobs.EnqueueAsync(job, cancellationToken: cancellationToken);
        }
        catch (JobQueueStoppedException)
        {
            File.Delete(job.UploadPath);
            return Problem(StatusCodes.Status503ServiceUnavailable, "Shutting down", "The server is stopping and accepts no new uploads; try again shortly.");
        }
        catch
        {
            File.Delete(job.UploadPath);
            throw;
        }

        // "queued" as far as this request knows: a free worker may have started the job already.
        tokens.Add(token, enqueued.JobId);
        var statusUrl = $"/uploads/{token}";
        return TypedResults.Accepted(statusUrl, new UploadAccepted(token, "queued", statusUrl, enqueued.JobId.ToString()));
    }

    /// <summary><c>GET /uploads/{token}</c>: the job's state as the queue reports it.</summary>
    public static async Task<IResult> GetStatusAsync(string token, UploadTokens tokens, IJobQueueMonitor monitor, CancellationToken cancellationToken)
    {
        var job = await FindAsync(token, tokens, monitor, cancellationToken);
        return job is null ? UnknownUpload() : TypedResults.Ok(Describe(job, token));
    }

    /// <summary><c>GET /uploads/{token}/result</c>: the <c>.gz</c> file, once the job has succeeded.</summary>
    public static async Task<IResult> GetResultAsync(string token, UploadTokens tokens, IJobQueueMonitor monitor, UploadStorage storage, CancellationToken cancellationToken)
    {
        var job = await FindAsync(token, tokens, monitor, cancellationToken);
        if (job is null)
        {
            return UnknownUpload();
        }

        if (job.State != JobState.Succeeded || CompressedUpload.FromJson(job.Result) is not { } result)
        {
            return Problem(StatusCodes.Status409Conflict, "No result yet", $"Job {job.Id} is {Name(job.State)}; its result exists once it has succeeded.");
        }

        // The name comes from the handler, but it is still only ever a name inside compressed/.
        return TypedResults.PhysicalFile(Path.Combine(storage.Compressed, Path.GetFileName(result.StoredAs)), "application/gzip", result.FileName + ".gz");
    }

    /// <summary>
    /// <c>DELETE /uploads/{token}</c>: cancels the upload's compression. 200 with the <c>cancelled</c> status when it had
    /// not started (its saved upload is deleted); 202 when it is running, whose handler stops at its token (follow the
    /// status URL to see it become <c>cancelled</c>); 409 when it had finished; 404 for an unknown token.
    /// </summary>
    public static async Task<IResult> CancelAsync(string token, UploadTokens tokens, IJobQueue jobs, IJobQueueMonitor monitor, UploadStorage storage, CancellationToken cancellationToken)
    {
        if (!tokens.TryFind(token, out var id))
        {
            return UnknownUpload();
        }

        var cancelled = await jobs.CancelAsync(id, cancellationToken);
        var job = await monitor.GetJobAsync(id, cancellationToken);
        switch (cancelled)
        {
            case CancelJobResult.Cancelled:
                // It will never run, so nothing else will read or delete its saved upload.
                File.Delete(storage.UploadPath(UploadTokens.KeyOf(token)));
                return job is null ? UnknownUpload() : TypedResults.Ok(Describe(job, token));
            case CancelJobResult.CancellationRequested:
                var statusUrl = $"/uploads/{token}";
                return job is null ? TypedResults.Accepted(statusUrl) : TypedResults.Accepted(statusUrl, Describe(job, token));
            case CancelJobResult.AlreadyFinished:
                return Problem(StatusCodes.Status409Conflict, "Already finished", $"Job {id} has already {(job is null ? "finished" : Name(job.State))}; there is nothing left to cancel.");
            default:
                return UnknownUpload();
        }
    }

    /// <summary>The job a token opens, as the queue reports it; <see langword="null"/> for any other string, and for a job whose status has expired.</summary>
    private static async Task<JobInfo?> FindAsync(string token, UploadTokens tokens, IJobQueueMonitor monitor, CancellationToken cancellationToken) =>
        tokens.TryFind(token, out var id) ? await monitor.GetJobAsync(id, cancellationToken) : null;

    private static JobStatusResponse Describe(JobInfo job, string token)
    {
        var result = job.State == JobState.Succeeded ? CompressedUpload.FromJson(job.Result) : null;
        var error = job.State is JobState.Retrying or JobState.DeadLettered && job.Errors.Count > 0 ? job.Errors[^1].Message : null;
        return new JobStatusResponse(
            job.Id.ToString(),
            Name(job.State),
            result?.FileName,
            result?.Size,
            job.Attempt,
            result?.CompressedSize,
            result is null ? null : $"/uploads/{token}/result",
            error,
            job.State == JobState.Retrying ? job.NextRunAt : null);
    }

    // One answer for every miss (a wrong token, a job id, garbage), so the endpoint tells a guesser nothing.
    private static ProblemHttpResult UnknownUpload() =>
        Problem(StatusCodes.Status404NotFound, "Unknown upload", "No upload has this token. Use the statusUrl that POST /files returned (uploads live in memory and are lost on restart; a finished one is kept for 24 hours).");

    private static string Name(JobState state) => state switch
    {
        JobState.Scheduled or JobState.Waiting => "queued",
        JobState.Running => "running",
        JobState.Retrying => "failed-will-retry",
        JobState.Succeeded => "succeeded",
        JobState.DeadLettered => "dead-lettered",
        _ => "cancelled",
    };

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);
}
