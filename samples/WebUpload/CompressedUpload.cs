using System.Text.Json;

namespace WebUpload;

/// <summary>
/// What a succeeded compression reports through <see cref="AsyncQueue.JobContext.SetResult"/>, as JSON: the queue
/// keeps it with the job's status, so the endpoints need no store of their own to find the result.
/// </summary>
/// <param name="StoredAs">The <c>.gz</c> file's name in the <c>compressed/</c> folder (its token's key, never the client's name).</param>
/// <param name="FileName">The name the client gave the upload; shown and offered as the download's name, never used as a path.</param>
/// <param name="Size">The upload's length in bytes.</param>
/// <param name="CompressedSize">The <c>.gz</c> file's length in bytes.</param>
public sealed record CompressedUpload(string StoredAs, string FileName, long Size, long CompressedSize)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Writes this result as the JSON that <see cref="AsyncQueue.JobContext.SetResult"/> keeps.</summary>
    /// <returns>The JSON.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a result written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The job's <see cref="AsyncQueue.JobInfo.Result"/>.</param>
    /// <returns>The result, or <see langword="null"/> when there is none.</returns>
    public static CompressedUpload? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<CompressedUpload>(json, Json);
}
