namespace FileProcessing;

/// <summary>A job: compress one file with GZip into <paramref name="OutputFolder"/>.</summary>
/// <param name="Path">The file to compress.</param>
/// <param name="OutputFolder">Where the <c>name_ext.gz</c> file goes.</param>
public sealed record ProcessFile(string Path, string OutputFolder)
{
    /// <summary>Gets the compressed file's path: <c>photo.jpg</c> becomes <c>photo_jpg.gz</c>.</summary>
    public string TargetPath => System.IO.Path.Combine(OutputFolder, System.IO.Path.GetFileName(Path).Replace('.', '_') + ".gz");
}
