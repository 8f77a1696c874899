using System.IO.Compression;
using System.Text.RegularExpressions;

namespace AsyncQueue.Samples.Tests.FileProcessing;

/// <summary>Checks shared by the in-process and the whole-program tests.</summary>
public static partial class SampleAssertions
{
    /// <summary>Asserts that <paramref name="gz"/> exists and decompresses byte for byte to <paramref name="original"/>.</summary>
    public static void DecompressesTo(string gz, string original)
    {
        Assert.True(File.Exists(gz), $"{gz} was not written.");
        using var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
        using var decompressed = new MemoryStream();
        input.CopyTo(decompressed);
        Assert.Equal(File.ReadAllBytes(original), decompressed.ToArray());
    }

    /// <summary>Asserts that no line of the output shows more than <paramref name="limit"/> files in progress, and returns the largest number shown.</summary>
    public static int MostInProgressShown(string output, int limit)
    {
        var started = StartedLine().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(started);
        Assert.All(started, n => Assert.InRange(n, 1, limit));

        var summary = SummaryLine().Match(output);
        Assert.True(summary.Success, $"No summary line in:\n{output}");
        var peak = int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(peak, 1, limit);
        Assert.Equal(started.Max(), peak);
        return peak;
    }

    [GeneratedRegex(@"^⏳ .+ started \((\d+) in progress\)$", RegexOptions.Multiline)]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"at most (\d+) in progress at once \(limit 3\)")]
    private static partial Regex SummaryLine();
}
