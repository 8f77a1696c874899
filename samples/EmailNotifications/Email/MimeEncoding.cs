using System.Globalization;
using System.Text;

namespace EmailNotifications.Email;

/// <summary>The encodings an ASCII-only message needs for Unicode text: RFC 2047 encoded-words in headers, RFC 2045 quoted-printable in the body.</summary>
internal static class MimeEncoding
{
    // 42 bytes make 56 base64 characters; with "=?utf-8?B?" and "?=" the word is 68 long: under RFC 2047's limit of 75,
    // and short enough to follow "Subject: " within a 78-character line.
    private const int MaxBytesPerEncodedWord = 42;

    // RFC 2045: an encoded line is at most 76 characters, counting the '=' of a soft line break.
    private const int MaxQuotedPrintableLine = 75;

    // An ASCII word longer than this cannot be folded onto a 78-character line after its header's name.
    private const int MaxRawWord = 60;

    /// <summary>An unstructured header value (a subject) as words to fold between: raw ASCII, or encoded-words.</summary>
    public static IReadOnlyList<string> Unstructured(string value)
    {
        value = OneLine(value);
        return NeedsEncoding(value) ? EncodedWords(value) : value.Split(' ');
    }

    /// <summary>A display name as words: atoms, a quoted-string when it holds specials such as <c>,</c> or <c>.</c>, or encoded-words.</summary>
    public static IReadOnlyList<string> Phrase(string value)
    {
        value = OneLine(value);
        if (NeedsEncoding(value))
        {
            return EncodedWords(value);
        }

        if (value.All(c => c == ' ' || IsAtomText(c)))
        {
            return value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }

        // Folding white space is allowed inside a quoted-string, so it may still be split at its spaces.
        return ("\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"").Split(' ');
    }

    /// <summary>
    /// The body with CRLF line endings and its Content-Transfer-Encoding: <c>7bit</c> when it is printable ASCII in
    /// lines of at most 78 characters that do not end in white space (which transports may strip), otherwise
    /// <c>quoted-printable</c> over its UTF-8 bytes.
    /// </summary>
    public static (string TransferEncoding, string Body) Body(string body)
    {
        var lines = body.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        if (lines.Length > 1 && lines[^1].Length == 0)
        {
            // The body's own final line break; every line gets one below.
            lines = lines[..^1];
        }

        var text = new StringBuilder();
        if (lines.All(line => line.Length <= 78 && !line.EndsWith(' ') && !line.EndsWith('\t') && line.All(c => c is >= ' ' and <= '~' || c == '\t')))
        {
            foreach (var line in lines)
            {
                text.Append(line).Append("\r\n");
            }

            return ("7bit", text.ToString());
        }

        foreach (var line in lines)
        {
            AppendQuotedPrintable(text, Encoding.UTF8.GetBytes(line));
        }

        return ("quoted-printable", text.ToString());
    }

    /// <summary>A header's text is one line: each line break becomes a space (parsers drop them from encoded-words anyway), so none can start a header of its own.</summary>
    private static string OneLine(string value) =>
        value.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ');

    private static bool NeedsEncoding(string value) =>
        value.Any(c => c is < ' ' or > '~') || value.Contains("=?", StringComparison.Ordinal) || value.Split(' ').Any(word => word.Length > MaxRawWord);

    /// <summary>Base64 ("B") encoded-words of at most 45 UTF-8 bytes each, never splitting a character; a decoder joins adjacent words without the spaces between them.</summary>
    private static List<string> EncodedWords(string value)
    {
        var words = new List<string>();
        var chunk = new List<byte>(MaxBytesPerEncodedWord);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            var length = rune.EncodeToUtf8(utf8);
            if (chunk.Count + length > MaxBytesPerEncodedWord)
            {
                words.Add(EncodedWord(chunk));
                chunk.Clear();
            }

            chunk.AddRange(utf8[..length]);
        }

        if (chunk.Count > 0 || words.Count == 0)
        {
            words.Add(EncodedWord(chunk));
        }

        return words;
    }

    private static string EncodedWord(List<byte> bytes) => "=?utf-8?B?" + Convert.ToBase64String([.. bytes]) + "?=";

    /// <summary>One line in quoted-printable, with soft line breaks (<c>=</c> CRLF) so no encoded line passes 76 characters.</summary>
    private static void AppendQuotedPrintable(StringBuilder text, byte[] line)
    {
        var length = 0;
        for (var i = 0; i < line.Length; i++)
        {
            var b = line[i];

            // Printable ASCII but '=' stays as it is; so do space and tab, except at the end of a line, where they would be lost.
            var literal = (b is >= (byte)'!' and <= (byte)'~' && b != (byte)'=') || (b is (byte)' ' or (byte)'\t' && i < line.Length - 1);
            var token = literal ? ((char)b).ToString() : "=" + b.ToString("X2", CultureInfo.InvariantCulture);
            if (length + token.Length > MaxQuotedPrintableLine)
            {
                text.Append("=\r\n");
                length = 0;
            }

            text.Append(token);
            length += token.Length;
        }

        text.Append("\r\n");
    }

    private static bool IsAtomText(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal);
}
