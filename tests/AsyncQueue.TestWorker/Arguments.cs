using System.Globalization;

namespace AsyncQueue.TestWorker;

/// <summary>The command line: a command, then <c>--name value</c> pairs and <c>--flag</c>s.</summary>
internal sealed class Arguments(string[] args)
{
    public string Require(string name) => Find(name) ?? throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback) => Find(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public bool Flag(string name) => Array.IndexOf(args, "--" + name) >= 0;

    public string? Find(string name)
    {
        var index = Array.IndexOf(args, "--" + name);
        return index >= 0 && index + 1 < args.Length && !args[index + 1].StartsWith("--", StringComparison.Ordinal) ? args[index + 1] : null;
    }
}
