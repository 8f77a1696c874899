namespace FileProcessing;

/// <summary>
/// A pause each job takes before compressing, standing in for slow storage or a network copy. The sample's files
/// compress in milliseconds, so without it every job ends before the next one starts and the 3-worker limit never
/// shows; with about a second per file, 5 files on 3 workers visibly run in two waves.
/// </summary>
/// <param name="Delay">How long each job waits; <see cref="TimeSpan.Zero"/> for none (the tests' choice).</param>
public sealed record SimulatedIo(TimeSpan Delay)
{
    /// <summary>The program's default: about the time the seed's example took per file.</summary>
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(1);
}
