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

    /// <summary>
    /// Asserts that no line of the output shows more than <paramref name="limit"/> files in progress or a lane above
    /// it, and returns the largest number in progress shown.
    /// </summary>
    public static int MostInProgressShown(string output, int limit)
    {
        var matches = StartedLine().Matches(output);
        var started = matches.Select(m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(started);
        Assert.All(started, n => Assert.InRange(n, 1, limit));
        Assert.All(matches, m => Assert.InRange(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1, limit));

        var summary = SummaryLine().Match(output);
        Assert.True(summary.Success, $"No summary line in:\n{output}");
        var peak = int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(peak, 1, limit);
        Assert.Equal(started.Max(), peak);
        return peak;
    }

    /// <summary>Asserts that some line is <paramref name="text"/> after the board's <c>[+1.02s lane 2]</c> stamp.</summary>
    public static void HasLine(IEnumerable<string> lines, string text) =>
        Assert.True(lines.Any(line => Stamped(line) == text), $"No line '[+…s lane N] {text}' in:\n{string.Join('\n', lines)}");

    /// <summary>Asserts that some line starts with <paramref name="prefix"/> after the board's stamp.</summary>
    public static void HasLineStartingWith(IEnumerable<string> lines, string prefix) =>
        Assert.True(lines.Any(line => Stamped(line)?.StartsWith(prefix, StringComparison.Ordinal) == true), $"No line '[+…s lane N] {prefix}…' in:\n{string.Join('\n', lines)}");

    // The text after "[+1.02s lane 2] ", or null for a line without the stamp. The time is never checked.
    private static string? Stamped(string line)
    {
        var match = Stamp().Match(line);
        return match.Success ? line[match.Length..] : null;
    }

    [GeneratedRegex(@"^\[\+\d+\.\d\ds lane \d+\] ")]
    private static partial Regex Stamp();

    [GeneratedRegex(@"^\[\+\d+\.\d\ds lane (\d+)\] ⏳ .+ started \((\d+) in progress\)$", RegexOptions.Multiline)]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"at most (\d+) in progress at once \(limit 3\)")]
    private static partial Regex SummaryLine();
}
