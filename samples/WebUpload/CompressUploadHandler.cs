using AsyncQueue;

namespace WebUpload;

/// <summary>Runs on the queue's workers: compresses the saved upload and keeps the status board up to date.</summary>
public sealed class CompressUploadHandler(IUploadCompressor compressor, JobStatusBoard board, ILogger<CompressUploadHandler> logger) : IJobHandler<CompressUpload>
{
    public async Task HandleAsync(CompressUpload job, JobContext context, CancellationToken cancellationToken)
    {
        board.Running(context.JobId, job, context.Attempt);

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
            board.Succeeded(context.JobId, job, context.Attempt, compressedSize);
            Log.Compressed(logger, context.JobId, job.FileName, context.Attempt, job.Size, compressedSize);
        }
        catch (Exception ex)
        {
            // The saved upload stays, so a later attempt can read it again.
            File.Delete(partial);
            board.Failed(context.JobId, job, context.Attempt, ex.Message);

            // Rethrow: the queue logs the failure and settles the job as failed.
            throw;
        }
    }
}
