using System.Globalization;

namespace AsyncQueue.Benchmarks;

/// <summary>Reads the benchmark modes' arguments; a mistyped one is a <see cref="UsageException"/> that names it.</summary>
internal static class Cli
{
    /// <summary>Reads a whole number, such as a worker count.</summary>
    public static int Int(string text, string what) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new UsageException($"{what} must be a positive whole number, not '{text}'.");

    /// <summary>Reads a positive number, such as a duration in seconds.</summary>
    public static double Double(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new UsageException($"{what} must be a positive number, not '{text}'.");

    /// <summary>Reads a scenario's name: one of <paramref name="scenarios"/>.</summary>
    public static string Scenario(string text, string what, params string[] scenarios) =>
        scenarios.Contains(text, StringComparer.Ordinal)
            ? text
            : throw new UsageException($"{what} must be one of {string.Join(", ", scenarios)}, not '{text}'.");

    /// <summary>Reads the value that follows <paramref name="option"/>, or null when the option is absent.</summary>
    public static string? Option(string[] args, string option)
    {
        var at = Array.IndexOf(args, option);
        if (at < 0)
        {
            return null;
        }

        return at + 1 < args.Length ? args[at + 1] : throw new UsageException($"{option} needs a value after it.");
    }
}

/// <summary>A benchmark mode's command line is wrong; the message says how.</summary>
internal sealed class UsageException(string message) : Exception(message);
