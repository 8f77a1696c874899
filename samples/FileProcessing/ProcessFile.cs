namespace FileProcessing;

/// <summary>A job: compress one file into the output folder.</summary>
public sealed record ProcessFile(string Path, string InputRoot, string OutputFolder);
