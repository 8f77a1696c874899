namespace FileProcessing;

/// <summary>A job: delete the compressed files in <paramref name="OutputFolder"/> older than <paramref name="MaxAge"/> (see <see cref="NightlyCleanup"/>).</summary>
/// <param name="OutputFolder">The folder of <c>.gz</c> files.</param>
/// <param name="MaxAge">How old a file may get, by its last write time.</param>
public sealed record CleanupProcessed(string OutputFolder, TimeSpan MaxAge);
