using System.Globalization;
using System.Net.Mail;
using System.Text;

namespace EmailNotifications.Email;

/// <summary>
/// Formats an <see cref="EmailMessage"/> as an RFC 5322 message, the content of an <c>.eml</c> file: ASCII only, CRLF
/// line endings, header lines folded under 78 characters, non-ASCII header text as RFC 2047 encoded-words, and a
/// <c>text/plain; charset=utf-8</c> body in quoted-printable when it is not plain short-lined ASCII.
/// </summary>
/// <remarks>
/// <see cref="MailMessage"/> has no public way to save itself, so the headers are written here. A line break in a subject
/// or name becomes a space and every other value is encoded or checked, so no value can inject a header.
/// </remarks>
public static class EmlWriter
{
    private const int MaxLineLength = 78;

    /// <summary>Formats <paramref name="message"/>, dated <paramref name="date"/>.</summary>
    /// <param name="message">The email.</param>
    /// <param name="date">The <c>Date</c> header's value.</param>
    /// <returns>The message's bytes, ready to be written as an <c>.eml</c> file.</returns>
    /// <exception cref="ArgumentException">An address has a non-ASCII local part (that needs SMTPUTF8), or the Message-ID is not <c>left@right</c>.</exception>
    public static byte[] Write(EmailMessage message, DateTimeOffset date)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = new StringBuilder();

        // The envelope, as SmtpClient's pickup mode writes it: pickup services that read these deliver to them.
        AppendHeader(text, "X-Sender", [AddrSpec(message.From)]);
        AppendHeader(text, "X-Receiver", [AddrSpec(message.To)]);
        AppendHeader(text, "From", Mailbox(message.From));
        AppendHeader(text, "To", Mailbox(message.To));
        AppendHeader(text, "Subject", MimeEncoding.Unstructured(message.Subject));
        AppendHeader(text, "Date", [FormatDate(date)]);
        AppendHeader(text, "Message-ID", [$"<{CheckMessageId(message.MessageId)}>"]);
        AppendHeader(text, "MIME-Version", ["1.0"]);
        AppendHeader(text, "Content-Type", ["text/plain;", "charset=utf-8"]);
        var (transferEncoding, body) = MimeEncoding.Body(message.Body);
        AppendHeader(text, "Content-Transfer-Encoding", [transferEncoding]);
        text.Append("\r\n").Append(body);
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>The RFC 5322 date-time: <c>Tue, 02 Dec 2025 09:30:00 +0000</c>.</summary>
    /// <param name="date">The date.</param>
    /// <returns>The formatted date.</returns>
    public static string FormatDate(DateTimeOffset date)
    {
        var offset = date.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return date.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
            + string.Create(CultureInfo.InvariantCulture, $"{sign}{offset.Hours:00}{offset.Minutes:00}");
    }

    /// <summary>Writes <c>Name: word word ...</c>, folding before a word that would pass 78 characters (CRLF then a space).</summary>
    private static void AppendHeader(StringBuilder text, string name, IReadOnlyList<string> words)
    {
        text.Append(name).Append(':');
        var lineLength = name.Length + 1;
        var wordsOnLine = 0;
        foreach (var word in words)
        {
            if (wordsOnLine > 0 && word.Length > 0 && lineLength + 1 + word.Length > MaxLineLength)
            {
                // Unfolding removes only the CRLF, so the space that separated the words survives.
                text.Append("\r\n");
                lineLength = 0;
            }

            text.Append(' ').Append(word);
            lineLength += 1 + word.Length;
            wordsOnLine++;
        }

        text.Append("\r\n");
    }

    /// <summary>A mailbox: <c>display name &lt;local@domain&gt;</c>, or the bare address without a name.</summary>
    private static IReadOnlyList<string> Mailbox(MailAddress address) =>
        string.IsNullOrWhiteSpace(address.DisplayName)
            ? [AddrSpec(address)]
            : [.. MimeEncoding.Phrase(address.DisplayName), $"<{AddrSpec(address)}>"];

    /// <summary>
    /// <c>local@domain</c> in ASCII: an internationalized domain becomes its punycode (IDNA) form; a non-ASCII local
    /// part would need SMTPUTF8 (RFC 6532), which this writer does not do.
    /// </summary>
    private static string AddrSpec(MailAddress address)
    {
        if (!IsPrintableAscii(address.User))
        {
            throw new ArgumentException($"The address '{address.Address}' has a non-ASCII local part, which needs SMTPUTF8; this writer writes RFC 5322 ASCII messages only.", nameof(address));
        }

        var host = address.Host.StartsWith('[') ? address.Host : new IdnMapping().GetAscii(address.Host);
        return $"{address.User}@{host}";
    }

    private static string CheckMessageId(string messageId)
    {
        var at = messageId.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == messageId.Length - 1 || !IsPrintableAscii(messageId) || messageId.AsSpan().IndexOfAny(" <>\"") >= 0)
        {
            throw new ArgumentException($"The Message-ID '{messageId}' must be 'left@right' in printable ASCII, without spaces, quotes or angle brackets.", nameof(messageId));
        }

        return messageId;
    }

    private static bool IsPrintableAscii(string value) => value.All(c => c is >= '!' and <= '~' || c == ' ');
}
