namespace WebUpload;

/// <summary>The sample's folders: <c>incoming/</c> for saved uploads, <c>compressed/</c> for the results.</summary>
public sealed class UploadStorage
{
    public UploadStorage(string root)
    {
        Root = Path.GetFullPath(root);
        Incoming = Directory.CreateDirectory(Path.Combine(Root, "incoming")).FullName;
        Compressed = Directory.CreateDirectory(Path.Combine(Root, "compressed")).FullName;
    }

    public string Root { get; }

    public string Incoming { get; }

    public string Compressed { get; }

    /// <summary>Saves an upload under a fresh name (never the client's file name) and describes the job that compresses it.</summary>
    public async Task<CompressUpload> SaveAsync(IFormFile file, CancellationToken cancellationToken)
    {
        var name = Guid.NewGuid().ToString("N");
        var uploadPath = Path.Combine(Incoming, name + ".upload");
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
}
