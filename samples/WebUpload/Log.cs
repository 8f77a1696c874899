using AsyncQueue;

namespace WebUpload;

/// <summary>The sample's log lines, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Uploads are saved in {Incoming} and compressed into {Compressed} (the folder is {Lifetime}).")]
    public static partial void Storage(ILogger logger, string incoming, string compressed, string lifetime);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId} compressed '{FileName}' on attempt {Attempt}: {Size} → {CompressedSize} bytes.")]
    public static partial void Compressed(ILogger logger, JobId jobId, string fileName, int attempt, long size, long compressedSize);
}
