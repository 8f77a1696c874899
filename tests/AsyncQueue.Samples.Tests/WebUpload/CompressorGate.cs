using WebUpload;

namespace AsyncQueue.Samples.Tests.WebUpload;

/// <summary>
/// Stands in front of the sample's real <see cref="GZipUploadCompressor"/>: each job waits here, already marked
/// running by the handler, until the test calls <see cref="Release"/>. Disposing releases it too, so a failed test
/// never leaves a job holding up the app's shutdown.
/// </summary>
public sealed class CompressorGate : IUploadCompressor, IDisposable
{
    private readonly GZipUploadCompressor _inner = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _entered = new(0);

    public async Task CompressAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        _entered.Release();
        await _release.Task.WaitAsync(cancellationToken);
        await _inner.CompressAsync(input, output, cancellationToken);
    }

    /// <summary>Waits until <paramref name="count"/> more jobs are held here; false if they never come (a hang guard, not a timing).</summary>
    public async Task<bool> WaitForHeldAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (!await _entered.WaitAsync(TimeSpan.FromMinutes(2)))
            {
                return false;
            }
        }

        return true;
    }

    public void Release() => _release.TrySetResult();

    public void Dispose()
    {
        Release();
        _entered.Dispose();
    }
}

/// <summary>A compressor whose every attempt fails as a full disk would, to see how the sample reports a failed job.</summary>
public sealed class FailingCompressor : IUploadCompressor
{
    public const string Message = "No space left on device (injected by the test).";

    public Task CompressAsync(Stream input, Stream output, CancellationToken cancellationToken) => throw new IOException(Message);
}
