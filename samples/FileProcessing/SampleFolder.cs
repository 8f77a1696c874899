namespace FileProcessing;

/// <summary>The files the sample compresses when it is given no folder.</summary>
public static class SampleFolder
{
    /// <summary>How many sample files are made.</summary>
    public const int FileCount = 5;

    /// <summary>Makes <c>original/file_0.jpg</c> ... <c>original/file_4.jpg</c> under <paramref name="root"/>.</summary>
    /// <param name="root">The folder to make them in; created if missing.</param>
    /// <returns>The <c>original</c> folder.</returns>
    public static string Create(string root)
    {
        var original = Directory.CreateDirectory(Path.Combine(root, "original")).FullName;
        for (var i = 0; i < FileCount; i++)
        {
            // Compressible content, different per file, so the .gz files are real and distinct.
            var text = string.Concat(Enumerable.Repeat($"file {i}: pretend these are the bytes of a photo. ", 10_000 * (i + 1)));
            File.WriteAllText(Path.Combine(original, $"file_{i}.jpg"), text);
        }

        return original;
    }
}
