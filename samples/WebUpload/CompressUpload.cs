using AsyncQueue;

namespace WebUpload;

/// <summary>A job: GZip-compress one uploaded file that the request saved to disk.</summary>
/// <param name="UploadPath">The saved upload. The request's own stream is gone once it has answered, so the job carries a file.</param>
/// <param name="ResultPath">Where the <c>.gz</c> goes.</param>
/// <param name="FileName">The name the client gave the file; shown only, never used as a path.</param>
/// <param name="Size">The upload's length in bytes.</param>
[JobKind("compress-upload")]
public sealed record CompressUpload(string UploadPath, string ResultPath, string FileName, long Size);
