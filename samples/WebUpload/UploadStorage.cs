namespace WebUpload;

/// <summary>The sample's folders: <c>incoming/</c> for saved uploads, <c>compressed/</c> for the results.</summary>
public sealed class UploadStorage
{
    /// <summary>Creates the folders under <paramref name="root"/>.</summary>
    /// <param name="root">The storage folder; created if missing.</param>
    /// <param name="temporary">Whether the folder is the app's own, to delete when it stops (<see cref="Delete"/>).</param>
    public UploadStorage(string root, bool temporary)
    {
        Temporary = temporary;
        Root = Path.GetFullPath(root);
        Incoming = Directory.CreateDirectory(Path.Combine(Root, "incoming")).FullName;
        Compressed = Directory.CreateDirectory(Path.Combine(Root, "compressed")).FullName;
    }

    public string Root { get; }

    /// <summary>Gets whether <see cref="Root"/> is a temporary folder of the app's own, deleted when it stops.</summary>
    public bool Temporary { get; }

    public string Incoming { get; }

    public string Compressed { get; }

    /// <summary>Deletes <see cref="Root"/> and everything in it, if it still exists.</summary>
    public void Delete()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>
    /// Saves an upload as <c>incoming/{name}.upload</c> (never under the client's file name) and describes the job
    /// that compresses it into <c>compressed/{name}.gz</c>.
    /// </summary>
    /// <param name="file">The uploaded file.</param>
    /// <param name="name">The upload's files' name: its token's key (<see cref="UploadTokens.KeyOf"/>).</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>The job.</returns>
    public async Task<CompressUpload> SaveAsync(IFormFile file, string name, CancellationToken cancellationToken)
    {
        var uploadPath = UploadPath(name);
        try
        {
            await using var target = File.Create(uploadPath);
            await file.CopyToAsync(target, cancellationToken);
        }
        catch
        {
            File.Delete(uploadPath);
            throw;
        }

        return new CompressUpload(uploadPath, Path.Combine(Compressed, name + ".gz"), Path.GetFileName(file.FileName), file.Length);
    }

    /// <summary>Gets where the upload named <paramref name="name"/> is saved until it is compressed.</summary>
    /// <param name="name">The upload's files' name.</param>
    /// <returns>The path.</returns>
    public string UploadPath(string name) => Path.Combine(Incoming, name + ".upload");
}
