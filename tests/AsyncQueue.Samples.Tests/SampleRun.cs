namespace AsyncQueue.Samples.Tests;

/// <summary>How a sample's process ended: its exit code and everything it wrote to stdout and stderr.</summary>
public sealed record SampleRun(int ExitCode, string Output, string Error)
{
    /// <summary>The stdout lines, each trimmed.</summary>
    public string[] Lines => Output.Split('\n', StringSplitOptions.TrimEntries);
}
