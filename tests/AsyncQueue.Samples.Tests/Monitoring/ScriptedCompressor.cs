using WebUpload;

namespace AsyncQueue.Samples.Tests.Monitoring;

/// <summary>
/// Stands in for the sample's compressor so that an upload's first byte picks how its job goes, and every outcome a
/// dashboard panel shows happens under load: <c>o</c> compresses (the sample's own GZip), <c>r</c> fails its first
/// attempt and succeeds on the retry, <c>f</c> fails every attempt (then is dead-lettered), <c>h</c> hangs deaf to
/// its token until this is disposed (so a queue timeout abandons it).
/// </summary>
public sealed class ScriptedCompressor : IUploadCompressor, IDisposable
{
    public const byte Compress = (byte)'o';
    public const byte FailOnce = (byte)'r';
    public const byte FailAlways = (byte)'f';
    public const byte Hang = (byte)'h';

    private readonly GZipUploadCompressor _inner = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<string> _failedOnce = new(StringComparer.Ordinal);

    public async Task CompressAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var marker = input.ReadByte();
        input.Position = 0;
        switch (marker)
        {
            case FailAlways:
                throw new IOException("Disk full (injected by the test).");
            case FailOnce when FirstAttempt(((FileStream)input).Name):
                throw new IOException("Transient read error (injected by the test).");
            case Hang:
                // Deaf to the token on purpose: this is the handler a timeout abandons.
                await _release.Task.ConfigureAwait(false);
                return;
            default:
                await _inner.CompressAsync(input, output, cancellationToken);
                return;
        }
    }

    public void Dispose() => _release.TrySetResult();

    private bool FirstAttempt(string upload)
    {
        lock (_failedOnce)
        {
            return _failedOnce.Add(upload);
        }
    }
}
