namespace FileProcessing;

/// <summary>What happened to a folder's files.</summary>
/// <param name="Files">How many files were enqueued.</param>
/// <param name="Succeeded">How many were compressed.</param>
/// <param name="Failures">One line per file that could not be compressed: its path and why.</param>
/// <param name="PeakInProgress">The most files that were being compressed at the same moment.</param>
/// <param name="OutputFolder">Where the <c>.gz</c> files are.</param>
public sealed record ProcessingReport(int Files, int Succeeded, IReadOnlyList<string> Failures, int PeakInProgress, string OutputFolder);
