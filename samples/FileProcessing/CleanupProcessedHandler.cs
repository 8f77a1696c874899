using AsyncQueue;

namespace FileProcessing;

/// <summary>Deletes the <c>.gz</c> files older than the job's age limit; leaves every other file alone.</summary>
public sealed class CleanupProcessedHandler(TimeProvider time) : IJobHandler<CleanupProcessed>
{
    public Task HandleAsync(CleanupProcessed job, JobContext context, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(job.OutputFolder))
        {
            return Task.CompletedTask;
        }

        var cutoff = time.GetUtcNow().UtcDateTime - job.MaxAge;
        foreach (var file in Directory.EnumerateFiles(job.OutputFolder, "*.gz"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.GetLastWriteTimeUtc(file) < cutoff)
            {
                File.Delete(file);
            }
        }

        return Task.CompletedTask;
    }
}
