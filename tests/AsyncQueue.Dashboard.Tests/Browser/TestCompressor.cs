using WebUpload;

namespace AsyncQueue.Dashboard.Tests.Browser;

/// <summary>
/// Stands in for the sample's compressor: fails every attempt until <see cref="Heal"/> (a full disk, then space freed),
/// and counts the attempts that started, so a test can see that a paused queue started none.
/// </summary>
internal sealed class TestCompressor : IUploadCompressor
{
    public const string Failure = "No space left on device <injected by the test>";

    private readonly GZipUploadCompressor _inner = new();
    private volatile bool _healed;
    private int _started;

    public TestCompressor(bool failing) => _healed = !failing;

    /// <summary>Gets how many attempts reached the compressor.</summary>
    public int Started => Volatile.Read(ref _started);

    public void Heal() => _healed = true;

    public async Task CompressAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _started);
        if (!_healed)
        {
            throw new IOException(Failure);
        }

        await _inner.CompressAsync(input, output, cancellationToken);
    }
}
