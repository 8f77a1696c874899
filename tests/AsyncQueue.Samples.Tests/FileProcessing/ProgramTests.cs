using FileProcessing;

namespace AsyncQueue.Samples.Tests.FileProcessing;

/// <summary>The sample as the README runs it: the FileProcessing program in its own process.</summary>
public sealed class ProgramTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Main_NoArguments_CompressesFiveSampleFilesPrintsEachStartAndEndAndDeletesTheSampleFolder()
    {
        // The program makes its sample folder under the temp folder; TMPDIR points that at the test's own folder.
        // --io-delay 0: the default second per file is for people watching, not for tests.
        var run = await RunAsync(["--io-delay", "0"]);

        Assert.True(run.ExitCode == 0, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        for (var i = 0; i < SampleFolder.FileCount; i++)
        {
            SampleAssertions.HasLineStartingWith(run.Lines, $"⏳ original/file_{i}.jpg started (");
            SampleAssertions.HasLine(run.Lines, $"✅ original/file_{i}.jpg processed → processed/file_{i}_jpg.gz");
        }

        SampleAssertions.MostInProgressShown(run.Output, limit: 3);
        Assert.Contains("(no simulated I/O delay)", run.Output, StringComparison.Ordinal);
        Assert.Contains($"Done: 5 processed, 0 failed", run.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(_root.Path, "asyncqueue-files-*"));
        Assert.Contains(run.Lines, line => line.StartsWith($"Deleted the temporary sample folder {_root.Path}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Main_Keep_LeavesTheSampleFolderWithAGzipPerFileAndSaysWhere()
    {
        var run = await RunAsync(["--keep", "--io-delay", "0.01"]);

        Assert.True(run.ExitCode == 0, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        var sampleRoot = Assert.Single(Directory.GetDirectories(_root.Path, "asyncqueue-files-*"));
        Assert.Contains($"Kept the sample folder: {sampleRoot}", run.Lines);
        Assert.Contains("each job first waits 0.01 s of simulated slow I/O (--io-delay)", run.Output, StringComparison.Ordinal);
        for (var i = 0; i < SampleFolder.FileCount; i++)
        {
            SampleAssertions.DecompressesTo(Path.Combine(sampleRoot, "processed", $"file_{i}_jpg.gz"), Path.Combine(sampleRoot, "original", $"file_{i}.jpg"));
        }

        SampleAssertions.MostInProgressShown(run.Output, limit: 3);
    }

    [Theory]
    [InlineData("--io-delay", "--io-delay needs a number of seconds from 0 to 60, but got ''.")]
    [InlineData("--io-delay -1", "--io-delay needs a number of seconds from 0 to 60, but got '-1'.")]
    [InlineData("--fast", "Unexpected argument '--fast'.")]
    public async Task Main_BadArguments_PrintsWhatIsWrongAndTheUsageAndExitsTwo(string arguments, string message)
    {
        var run = await RunAsync(arguments.Split(' '));

        Assert.True(run.ExitCode == 2, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        Assert.Contains($"{message} Usage: dotnet run --project samples/FileProcessing", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task Main_FolderWithABrokenSymlink_PrintsAFailureLineCompressesTheOthersAndExitsOne()
    {
        var photos = Directory.CreateDirectory(Path.Combine(_root.Path, "photos")).FullName;
        File.WriteAllText(Path.Combine(photos, "a.jpg"), "first photo");
        File.WriteAllText(Path.Combine(photos, "b.png"), "second photo");
        File.CreateSymbolicLink(Path.Combine(photos, "c.jpg"), Path.Combine(_root.Path, "gone.jpg"));

        var run = await RunAsync([photos, "--io-delay", "0"]);

        Assert.True(run.ExitCode == 1, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        SampleAssertions.HasLine(run.Lines, "✅ photos/a.jpg processed → photos/processed/a_jpg.gz");
        SampleAssertions.HasLine(run.Lines, "✅ photos/b.png processed → photos/processed/b_png.gz");
        SampleAssertions.HasLineStartingWith(run.Lines, "❌ photos/c.jpg failed: ");
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
        Assert.Contains($"Folder not found: {missing}. Usage: dotnet run --project samples/FileProcessing", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    // A hang guard, not a timing: the program normally ends within seconds.
    private Task<SampleRun> RunAsync(string[] args) =>
        SampleProcess.RunAsync("FileProcessing", args, hangGuard: TimeSpan.FromMinutes(5), environment: new Dictionary<string, string> { ["TMPDIR"] = _root.Path + Path.DirectorySeparatorChar });
}
