using System.Diagnostics.CodeAnalysis;
using AsyncQueue;
using Microsoft.AspNetCore.Http.HttpResults;

namespace WebUpload;

/// <summary>The answer to an upload: the token that opens its status and result, where to follow it, and the job's id.</summary>
/// <param name="Token">The upload's unguessable token: whoever holds it can read the status and download the result.</param>
/// <param name="Status">Always <c>queued</c>.</param>
/// <param name="StatusUrl"><c>/uploads/{token}</c>.</param>
/// <param name="JobId">The queue's job id, for logs and support. Not a secret, and it opens nothing.</param>
public sealed record UploadAccepted(string Token, string Status, string StatusUrl, string JobId);

/// <summary>The answer to <c>GET /uploads/{token}</c>.</summary>
public sealed record JobStatusResponse(string JobId, string Status, string FileName, long Size, int Attempt, long? CompressedSize, string? ResultUrl, string? Error);

/// <summary>
/// The endpoints. An upload is saved and enqueued, and answered at once with 202 and a token; a worker compresses it
/// later. Status and result are addressed by the token, never by the job id, which is guessable (see <see cref="JobStatusBoard"/>).
/// </summary>
public static class UploadEndpoints
{
    /// <summary>The multipart field that carries the file.</summary>
    public const string FileField = "file";

    private const string HowToUpload = "Send multipart/form-data with the file in a field named 'file', e.g. curl -F file=@photo.jpg http://127.0.0.1:5080/files (your port may differ)";

    /// <summary><c>POST /files</c>: saves the upload, enqueues its compression, answers 202 Accepted with the job's status URL.</summary>
    public static async Task<IResult> UploadAsync(HttpRequest request, IJobQueue jobs, JobStatusBoard board, UploadStorage storage, CancellationToken cancellationToken)
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

        var job = await storage.SaveAsync(file, cancellationToken);
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

        // A free worker may already be running the job: the board keeps whatever the handler wrote first.
        board.Queued(enqueued.JobId, job);
        var token = board.IssueToken(enqueued.JobId);
        var statusUrl = $"/uploads/{token}";
        return TypedResults.Accepted(statusUrl, new UploadAccepted(token, "queued", statusUrl, enqueued.JobId.ToString()));
    }

    /// <summary><c>GET /uploads/{token}</c>: queued, running, succeeded or failed.</summary>
    public static IResult GetStatus(string token, JobStatusBoard board)
    {
        if (!TryFind(token, board, out var status, out var problem))
        {
            return problem;
        }

        var job = status.Job;
        var resultUrl = status.State == JobState.Succeeded ? $"/uploads/{token}/result" : null;
        return TypedResults.Ok(new JobStatusResponse(status.Id.ToString(), Name(status.State), job.FileName, job.Size, status.Attempt, status.CompressedSize, resultUrl, status.Error));
    }

    /// <summary><c>GET /uploads/{token}/result</c>: the <c>.gz</c> file, once the job has succeeded.</summary>
    public static IResult GetResult(string token, JobStatusBoard board)
    {
        if (!TryFind(token, board, out var status, out var problem))
        {
            return problem;
        }

        if (status.State != JobState.Succeeded)
        {
            return Problem(StatusCodes.Status409Conflict, "No result yet", $"Job {status.Id} is {Name(status.State)}; its result exists once it has succeeded.");
        }

        return TypedResults.PhysicalFile(status.Job.ResultPath, "application/gzip", status.Job.FileName + ".gz");
    }

    private static bool TryFind(string token, JobStatusBoard board, [NotNullWhen(true)] out JobStatus? status, [NotNullWhen(false)] out ProblemHttpResult? problem)
    {
        // One answer for every miss (a wrong token, a job id, garbage), so the endpoint tells a guesser nothing.
        if (board.TryGetByToken(token, out status))
        {
            problem = null;
            return true;
        }

        problem = Problem(StatusCodes.Status404NotFound, "Unknown upload", "No upload has this token. Use the statusUrl that POST /files returned (uploads live in memory and are lost on restart).");
        return false;
    }

    private static string Name(JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        _ => "failed",
    };

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);
}
