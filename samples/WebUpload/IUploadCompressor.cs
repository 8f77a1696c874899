using System.IO.Compression;

namespace WebUpload;

/// <summary>Compresses an upload. A service of its own, so the compression format can change (and tests can hold a job mid-way).</summary>
public interface IUploadCompressor
{
    /// <summary>Writes the compressed form of <paramref name="input"/> to <paramref name="output"/>.</summary>
    /// <param name="input">The upload.</param>
    /// <param name="output">The result; left open.</param>
    /// <param name="cancellationToken">Cancelled when the host stops.</param>
    /// <returns>A task that completes when everything is written.</returns>
    Task CompressAsync(Stream input, Stream output, CancellationToken cancellationToken);
}

/// <summary>GZip, the format the sample promises (<c>.gz</c>).</summary>
public sealed class GZipUploadCompressor : IUploadCompressor
{
    public async Task CompressAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        await using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        await input.CopyToAsync(gzip, cancellationToken);
    }
}
