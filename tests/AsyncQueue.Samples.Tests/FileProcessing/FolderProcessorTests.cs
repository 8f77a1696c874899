using FileProcessing;

namespace AsyncQueue.Samples.Tests.FileProcessing;

/// <summary>The sample's work, run in-process on a folder of the test's own.</summary>
public sealed class FolderProcessorTests : IDisposable
{
    // Hang guards only: a run that takes this long has hung; nothing is timed.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly TempFolder _root = new();
    private readonly string _original;
    private readonly string _processed;
    private readonly StringWriter _output = new();

    public FolderProcessorTests()
    {
        _original = SampleFolder.Create(_root.Path);
        _processed = Path.Combine(_root.Path, "processed");
    }

    public void Dispose()
    {
        _output.Dispose();
        _root.Dispose();
    }

    [Fact]
    public async Task RunAsync_SampleFolder_WritesAGzipPerFileThatDecompressesToTheOriginal()
    {
        var report = await FolderProcessor.RunAsync(_original, _processed, _output).WaitAsync(HangGuard);

        Assert.Equal(5, report.Files);
        Assert.Equal(5, report.Succeeded);
        Assert.Empty(report.Failures);
        Assert.Equal(_processed, report.OutputFolder);
        for (var i = 0; i < SampleFolder.FileCount; i++)
        {
            SampleAssertions.DecompressesTo(Path.Combine(_processed, $"file_{i}_jpg.gz"), Path.Combine(_original, $"file_{i}.jpg"));
            SampleAssertions.HasLine(Lines(), $"✅ original/file_{i}.jpg processed → processed/file_{i}_jpg.gz");
        }

        Assert.Equal(5, Directory.GetFiles(_processed).Length);
        Assert.Contains("Done: 5 processed, 0 failed", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BrokenSymlinkAmongFiles_PrintsAFailureLineAndCompressesTheOthers()
    {
        // Root ignores file permissions, so the unreadable file is a directory entry whose target does not exist.
        File.CreateSymbolicLink(Path.Combine(_original, "broken.jpg"), Path.Combine(_root.Path, "no-such-file.jpg"));

        var report = await FolderProcessor.RunAsync(_original, _processed, _output).WaitAsync(HangGuard);

        Assert.Equal(6, report.Files);
        Assert.Equal(5, report.Succeeded);
        var failure = Assert.Single(report.Failures);
        Assert.StartsWith("original/broken.jpg: ", failure, StringComparison.Ordinal);
        SampleAssertions.HasLineStartingWith(Lines(), "❌ original/broken.jpg failed: ");
        Assert.False(File.Exists(Path.Combine(_processed, "broken_jpg.gz")), "A file that could not be read left a .gz behind.");
        for (var i = 0; i < SampleFolder.FileCount; i++)
        {
            SampleAssertions.DecompressesTo(Path.Combine(_processed, $"file_{i}_jpg.gz"), Path.Combine(_original, $"file_{i}.jpg"));
        }

        Assert.Contains("Done: 5 processed, 1 failed", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FiveFilesHeldAtTheHandler_NeverMoreThanThreeInProgress()
    {
        var gate = new HandlerGate();
        var run = FolderProcessor.RunAsync(_original, _processed, _output, gate.Install);

        // Three workers take three jobs and are held; the other two jobs must wait for a free worker.
        Assert.True(await gate.WaitForEnteredAsync(FolderProcessor.Workers), "Three jobs never reached the handler.");
        Assert.Equal(3, gate.Entered);
        Assert.Equal(3, gate.InProgress);
        gate.Release();
        var report = await run.WaitAsync(HangGuard);

        Assert.Equal(5, report.Succeeded);
        Assert.Equal(5, gate.Entered);
        Assert.Equal(3, gate.Peak);
        Assert.InRange(report.PeakInProgress, 1, 3);
        Assert.Equal(report.PeakInProgress, SampleAssertions.MostInProgressShown(_output.ToString(), limit: 3));
    }

    [Fact]
    public async Task RunAsync_FileDeletedAfterListing_PrintsAFailureLineAndTheOthersSucceed()
    {
        var gate = new HandlerGate();
        var run = FolderProcessor.RunAsync(_original, _processed, _output, gate.Install);

        // file_0..file_2 are held by the three workers, so file_4 is listed and enqueued but not yet started.
        Assert.True(await gate.WaitForEnteredAsync(FolderProcessor.Workers), "Three jobs never reached the handler.");
        File.Delete(Path.Combine(_original, "file_4.jpg"));
        gate.Release();
        var report = await run.WaitAsync(HangGuard);

        Assert.Equal(4, report.Succeeded);
        Assert.StartsWith("original/file_4.jpg: ", Assert.Single(report.Failures), StringComparison.Ordinal);
        SampleAssertions.HasLineStartingWith(Lines(), "❌ original/file_4.jpg failed: Could not find file");
        Assert.False(File.Exists(Path.Combine(_processed, "file_4_jpg.gz")));
        for (var i = 0; i < 4; i++)
        {
            SampleAssertions.DecompressesTo(Path.Combine(_processed, $"file_{i}_jpg.gz"), Path.Combine(_original, $"file_{i}.jpg"));
        }
    }

    [Fact]
    public async Task RunAsync_MissingFolder_ThrowsDirectoryNotFoundAndCreatesNothing()
    {
        var missing = Path.Combine(_root.Path, "missing");

        var ex = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => FolderProcessor.RunAsync(missing, Path.Combine(missing, "processed"), _output));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    private string[] Lines() => _output.ToString().Split('\n', StringSplitOptions.TrimEntries);
}
