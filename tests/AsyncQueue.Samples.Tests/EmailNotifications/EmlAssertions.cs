using System.Text;
using EmailNotifications;
using MimeKit;

namespace AsyncQueue.Samples.Tests.EmailNotifications;

/// <summary>Checks on written <c>.eml</c> files: the RFC 5322 rules a lenient parser would forgive, then the content as MimeKit reads it.</summary>
public static class EmlAssertions
{
    /// <summary>Asserts the raw form: ASCII only, every line ended by CRLF, header lines within 78 characters, body lines within 998 (76 in quoted-printable).</summary>
    public static void IsWellFormed(byte[] bytes)
    {
        Assert.True(Ascii.IsValid(bytes), "The message has non-ASCII bytes.");
        var text = Encoding.ASCII.GetString(bytes);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        var lines = text[..^2].Split("\r\n");
        Assert.All(lines, line => Assert.False(line.Contains('\r', StringComparison.Ordinal) || line.Contains('\n', StringComparison.Ordinal), $"A bare CR or LF in: {line}"));

        var blank = Array.IndexOf(lines, string.Empty);
        Assert.True(blank > 0, "No blank line between header and body.");
        var header = lines[..blank];
        Assert.All(header, line => Assert.True(line.Length <= 78, $"A header line of {line.Length} characters: {line}"));
        Assert.All(header, line => Assert.False(string.IsNullOrWhiteSpace(line), "A header line of white space only."));
        var quotedPrintable = header.Contains("Content-Transfer-Encoding: quoted-printable", StringComparer.Ordinal);
        Assert.All(lines[(blank + 1)..], line => Assert.True(line.Length <= (quotedPrintable ? 76 : 998), $"A body line of {line.Length} characters: {line}"));
    }

    /// <summary>Asserts that <paramref name="message"/> is <paramref name="notification"/>, as the sample sends it.</summary>
    public static void IsNotification(MimeMessage message, SendNotification notification)
    {
        var from = Assert.Single(message.From.Mailboxes);
        Assert.Equal(SendNotificationHandler.From.Address, from.Address);
        Assert.Equal(SendNotificationHandler.From.DisplayName, from.Name);
        var to = Assert.Single(message.To.Mailboxes);
        Assert.Equal(notification.RecipientEmail, to.Address);
        Assert.Equal(notification.RecipientName, to.Name);
        Assert.Equal(notification.Subject, message.Subject);
        Assert.Equal(Lines(notification.Body), Lines(message.TextBody ?? ""));

        var body = Assert.IsType<TextPart>(message.Body);
        Assert.Equal("text/plain", body.ContentType.MimeType);
        Assert.Equal("utf-8", body.ContentType.Charset);
        Assert.NotEqual(DateTimeOffset.MinValue, message.Date);
        Assert.EndsWith("@shop.example", message.MessageId, StringComparison.Ordinal);
        Assert.Equal(notification.RecipientEmail, message.Headers["X-Receiver"]);
    }

    /// <summary>The text's lines, whatever its line endings, without a final line break.</summary>
    public static string[] Lines(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
}
