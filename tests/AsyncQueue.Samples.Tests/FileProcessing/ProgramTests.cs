using FileProcessing;

namespace AsyncQueue.Samples.Tests.FileProcessing;

/// <summary>The sample as the README runs it: the FileProcessing program in its own process.</summary>
public sealed class ProgramTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Main_NoArguments_CompressesFiveSampleFilesAndExitsZero()
    {
        // The program makes its sample folder under the temp folder; TMPDIR points that at the test's own folder.
        var run = await RunAsync([]);

        Assert.True(run.ExitCode == 0, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        var sampleRoot = Assert.Single(Directory.GetDirectories(_root.Path, "asyncqueue-files-*"));
        for (var i = 0; i < SampleFolder.FileCount; i++)
        {
            Assert.Contains($"✅ original/file_{i}.jpg processed → processed/file_{i}_jpg.gz", run.Lines);
            SampleAssertions.DecompressesTo(Path.Combine(sampleRoot, "processed", $"file_{i}_jpg.gz"), Path.Combine(sampleRoot, "original", $"file_{i}.jpg"));
        }

        SampleAssertions.MostInProgressShown(run.Output, limit: 3);
        Assert.Contains($"Done: 5 processed, 0 failed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Main_FolderWithABrokenSymlink_PrintsAFailureLineCompressesTheOthersAndExitsOne()
    {
        var photos = Directory.CreateDirectory(Path.Combine(_root.Path, "photos")).FullName;
        File.WriteAllText(Path.Combine(photos, "a.jpg"), "first photo");
        File.WriteAllText(Path.Combine(photos, "b.png"), "second photo");
        File.CreateSymbolicLink(Path.Combine(photos, "c.jpg"), Path.Combine(_root.Path, "gone.jpg"));

        var run = await RunAsync([photos]);

        Assert.True(run.ExitCode == 1, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        Assert.Contains("✅ photos/a.jpg processed → photos/processed/a_jpg.gz", run.Lines);
        Assert.Contains("✅ photos/b.png processed → photos/processed/b_png.gz", run.Lines);
        Assert.Contains(run.Lines, line => line.StartsWith("❌ photos/c.jpg failed: ", StringComparison.Ordinal));
        SampleAssertions.DecompressesTo(Path.Combine(photos, "processed", "a_jpg.gz"), Path.Combine(photos, "a.jpg"));
        SampleAssertions.DecompressesTo(Path.Combine(photos, "processed", "b_png.gz"), Path.Combine(photos, "b.png"));
        Assert.Contains("Done: 2 processed, 1 failed", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Main_MissingFolder_PrintsTheFolderAndExitsTwo()
    {
        var missing = Path.Combine(_root.Path, "missing");

        var run = await RunAsync([missing]);

        Assert.True(run.ExitCode == 2, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        Assert.Contains($"Folder not found: {missing}", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    // A hang guard, not a timing: the program normally ends within seconds.
    private Task<SampleRun> RunAsync(string[] args) =>
        SampleProcess.RunAsync("FileProcessing", args, hangGuard: TimeSpan.FromMinutes(5), environment: new Dictionary<string, string> { ["TMPDIR"] = _root.Path + Path.DirectorySeparatorChar });
}
