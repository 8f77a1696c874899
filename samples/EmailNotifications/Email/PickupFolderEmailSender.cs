namespace EmailNotifications.Email;

/// <summary>
/// Writes each email as an RFC 5322 <c>.eml</c> file into a pickup folder: the hand-off that IIS SMTP, Exchange, many
/// MTAs' pickup services and <c>SmtpClient</c>'s <c>SpecifiedPickupDirectory</c> mode use, and a file any mail client opens.
/// </summary>
public sealed class PickupFolderEmailSender : IEmailSender
{
    private readonly TimeProvider _time;

    /// <summary>Initializes a sender that writes into <paramref name="folder"/>, creating it if missing.</summary>
    /// <param name="folder">The pickup folder.</param>
    /// <param name="time">The clock for the <c>Date</c> header.</param>
    public PickupFolderEmailSender(string folder, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(time);
        Folder = Directory.CreateDirectory(folder).FullName;
        _time = time;
    }

    /// <summary>Gets the pickup folder's full path.</summary>
    public string Folder { get; }

    /// <inheritdoc />
    public async Task<string> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = EmlWriter.Write(message, _time.GetUtcNow());

        // A unique name per file, as SmtpClient's pickup mode does: a second send of one message shows as a second file.
        // Written under a .tmp name and renamed, so a pickup service never reads a half-written message.
        var path = Path.Combine(Folder, Guid.NewGuid().ToString("N") + ".eml");
        var temporary = path + ".tmp";
        try
        {
            await File.WriteAllBytesAsync(temporary, bytes, cancellationToken);
            File.Move(temporary, path);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        return path;
    }
}
