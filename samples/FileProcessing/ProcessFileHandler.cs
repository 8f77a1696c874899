using System.IO.Compression;
using AsyncQueue;

namespace FileProcessing;

/// <summary>
/// Compresses one file with GZip into the output folder, as <c>name_ext.gz</c>, after the <see cref="SimulatedIo"/>
/// pause, and reports its start and end on the board.
/// </summary>
public sealed class ProcessFileHandler(ProgressBoard board, SimulatedIo io, TimeProvider time) : IJobHandler<ProcessFile>
{
    public async Task HandleAsync(ProcessFile job, JobContext context, CancellationToken cancellationToken)
    {
        board.Started(job.Path);
        try
        {
            if (io.Delay > TimeSpan.Zero)
            {
                await Task.Delay(io.Delay, time, cancellationToken);
            }

            await CompressAsync(job.Path, job.TargetPath, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An unreadable file is an outcome to report, not a crash: the job ends normally and the other files go on.
            board.Failed(job.Path, ex.Message);
            return;
        }
        catch (Exception ex)
        {
            // Anything else is a bug or a shutdown: still count the file, so the program never waits for it forever,
            // and rethrow so the queue logs the failure.
            board.Failed(job.Path, ex.Message);
            throw;
        }

        board.Compressed(job.Path, job.TargetPath);
    }

    private static async Task CompressAsync(string path, string target, CancellationToken cancellationToken)
    {
        // Open the input first: a file that cannot be read leaves no empty .gz behind.
        await using var input = File.OpenRead(path);
        try
        {
            await using var output = File.Create(target);
            await using var gzip = new GZipStream(output, CompressionLevel.SmallestSize);
            await input.CopyToAsync(gzip, cancellationToken);
        }
        catch
        {
            File.Delete(target);
            throw;
        }
    }
}
