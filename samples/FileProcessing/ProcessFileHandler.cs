using System.IO.Compression;
using AsyncQueue;

namespace FileProcessing;

/// <summary>Compresses a file with GZip into the output folder, as <c>name_ext.gz</c>.</summary>
public sealed class ProcessFileHandler(ProgressBoard board) : IJobHandler<ProcessFile>
{
    public async Task HandleAsync(ProcessFile job, JobContext context, CancellationToken cancellationToken)
    {
        board.Started();
        var shown = Path.GetRelativePath(job.InputRoot, job.Path);
        try
        {
            var target = Path.Combine(job.OutputFolder, Path.GetFileName(job.Path).Replace('.', '_') + ".gz");
            await using (var input = File.OpenRead(job.Path))
            await using (var output = File.Create(target))
            await using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
            {
                await input.CopyToAsync(gzip, cancellationToken);
            }

            Console.WriteLine($"✅ {shown} processed → {Path.GetRelativePath(Path.GetDirectoryName(job.OutputFolder)!, target)}");
            board.Finished(null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // One unreadable file is reported and never blocks the others.
            Console.WriteLine($"❌ {shown} failed: {ex.Message}");
            board.Finished($"{shown}: {ex.Message}");
        }
    }
}
