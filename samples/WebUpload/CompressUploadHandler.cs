using AsyncQueue;

namespace WebUpload;

/// <summary>
/// Runs on the queue's workers: compresses the saved upload and reports where the result is
/// (<see cref="JobContext.SetResult"/>). The queue keeps the job's state, attempts and errors itself.
/// </summary>
public sealed class CompressUploadHandler(IUploadCompressor compressor, IHostApplicationLifetime lifetime, ILogger<CompressUploadHandler> logger) : IJobHandler<CompressUpload>
{
    public async Task HandleAsync(CompressUpload job, JobContext context, CancellationToken cancellationToken)
    {
        // Written under a temporary name and renamed when complete, so the result URL never serves half a file.
        var partial = job.ResultPath + ".partial";
        try
        {
            await using (var input = File.OpenRead(job.UploadPath))
            await using (var output = File.Create(partial))
            {
                await compressor.CompressAsync(input, output, cancellationToken);
            }

            File.Move(partial, job.ResultPath, overwrite: true);
            File.Delete(job.UploadPath);
            var compressedSize = new FileInfo(job.ResultPath).Length;
            context.SetResult(new CompressedUpload(Path.GetFileName(job.ResultPath), job.FileName, job.Size, compressedSize).ToJson());
            Log.Compressed(logger, context.JobId, job.FileName, context.Attempt, job.Size, compressedSize);
        }
        catch (Exception ex)
        {
            File.Delete(partial);

            // A retry reads the saved upload again, so it stays, unless the job was cancelled (DELETE /uploads/{token}):
            // that job never runs again. The token is cancelled at shutdown too, and then the job is handed back to
            // run later, so only a cancel while the app is not stopping deletes the upload.
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                File.Delete(job.UploadPath);
            }

            // Rethrow: the queue records the error, then retries the job, dead-letters it, or settles the cancel.
            throw;
        }
    }
}
