using System.Net.Mail;
using System.Text;
using EmailNotifications;
using EmailNotifications.Email;
using MimeKit;

namespace AsyncQueue.Samples.Tests.EmailNotifications;

/// <summary>The sample's RFC 5322 writer, checked against the hard cases by the raw rules and by MimeKit.</summary>
public sealed class EmlWriterTests
{
    private static readonly DateTimeOffset Date = new(2025, 12, 2, 9, 30, 5, TimeSpan.FromHours(-3.5));

    public static TheoryData<string> Subjects => new()
    {
        "Plain ASCII",
        "Your order has shipped 🚚 — ça arrive jeudi",
        "新しいコメントが届きました：「週末のセール」についてのあなたの投稿に返信があります、ご確認ください",
        "Looks like an encoded word: =?utf-8?B?aGk=?= but is not",
        "A long ASCII subject that goes on and on well past the seventy-eight characters one header line should hold",
        "Averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylongwordwithoutspaces",
        "",
    };

    public static TheoryData<string> Names => new()
    {
        "",
        "Ada Lovelace",
        "Torvalds, Linus",
        "Jane \"JJ\" O'Neil \\ Esq.",
        "Zoë Ångström",
        "山田 太郎 (東京本社 営業部 第一課 課長代理 兼 システム管理者)",
    };

    [Theory]
    [MemberData(nameof(Subjects))]
    public void Write_Subject_IsWellFormedAndDecodesToTheSameText(string subject)
    {
        var (bytes, message) = WriteAndParse(subject: subject);

        EmlAssertions.IsWellFormed(bytes);
        Assert.Equal(subject, message.Subject);
        Assert.Empty(message.Bcc);
        Assert.Single(message.To.Mailboxes);
    }

    [Theory]
    [InlineData("Injected\r\nBcc: attacker@evil.example")]
    [InlineData("Injected\nBcc: attacker@evil.example")]
    [InlineData("Injected\rBcc: attacker@evil.example")]
    public void Write_SubjectWithALineBreak_WritesItAsASpaceAndInjectsNoHeader(string subject)
    {
        var (bytes, message) = WriteAndParse(subject: subject);

        EmlAssertions.IsWellFormed(bytes);
        Assert.Equal("Injected Bcc: attacker@evil.example", message.Subject);
        Assert.Empty(message.Bcc);
        Assert.DoesNotContain("\r\nBcc:", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Write_RecipientName_IsWellFormedAndDecodesToTheSameName(string name)
    {
        var (bytes, message) = WriteAndParse(to: new MailAddress("someone@example.com", name));

        EmlAssertions.IsWellFormed(bytes);
        var to = Assert.Single(message.To.Mailboxes);
        Assert.Equal("someone@example.com", to.Address);
        Assert.Equal(name, to.Name ?? "");
    }

    [Theory]
    [InlineData("One short line.")]
    [InlineData("Lines\nwith LF\r\nand CRLF\rand CR\n")]
    [InlineData("Trailing spaces   \nand a tab\t\nstay.")]
    [InlineData("50% off = half price, a=b, and =3D is not an escape here.")]
    [InlineData("Ünïcödé everywhere: 日本語, emoji 🎉, and a long line that needs soft line breaks because it runs on far past seventy-six characters.")]
    [InlineData("\n\nBlank lines first and last\n\n")]
    public void Write_Body_IsWellFormedAndDecodesToTheSameText(string body)
    {
        var (bytes, message) = WriteAndParse(body: body);

        EmlAssertions.IsWellFormed(bytes);
        Assert.Equal(EmlAssertions.Lines(body), EmlAssertions.Lines(message.TextBody ?? ""));
    }

    [Fact]
    public void Write_AnyMessage_HasTheRfc5322AndMimeHeaders()
    {
        var (bytes, message) = WriteAndParse();
        var text = Encoding.ASCII.GetString(bytes);

        Assert.StartsWith("X-Sender: notifications@shop.example\r\nX-Receiver: someone@example.com\r\nFrom: Example Shop <notifications@shop.example>\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nDate: Tue, 02 Dec 2025 09:30:05 -0330\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nMessage-ID: <job-1@shop.example>\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nMIME-Version: 1.0\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Type: text/plain; charset=utf-8\r\n", text, StringComparison.Ordinal);
        Assert.Equal(Date, message.Date);
        Assert.Equal("job-1@shop.example", message.MessageId);
        Assert.Equal(ContentEncoding.SevenBit, Assert.IsType<TextPart>(message.Body).ContentTransferEncoding);
    }

    [Fact]
    public void Write_NonAsciiBody_IsQuotedPrintable()
    {
        var (_, message) = WriteAndParse(body: "Grüße");

        Assert.Equal(ContentEncoding.QuotedPrintable, Assert.IsType<TextPart>(message.Body).ContentTransferEncoding);
    }

    [Fact]
    public void Write_InternationalizedDomain_WritesItsPunycodeForm()
    {
        var (bytes, message) = WriteAndParse(to: new MailAddress("anna@bücher.example", "Anna"));

        EmlAssertions.IsWellFormed(bytes);
        Assert.Contains("\r\nTo: Anna <anna@xn--bcher-kva.example>\r\n", Encoding.ASCII.GetString(bytes), StringComparison.Ordinal);

        // MimeKit shows the domain decoded again.
        Assert.Equal("anna@bücher.example", Assert.Single(message.To.Mailboxes).Address);
    }

    [Fact]
    public void Write_NonAsciiLocalPart_ThrowsArgumentException()
    {
        var message = Message(to: new MailAddress("jösé@example.com"));

        var error = Assert.Throws<ArgumentException>(() => EmlWriter.Write(message, Date));
        Assert.Contains("SMTPUTF8", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ada@example.com", true)]
    [InlineData("ken.example.com", false)]
    [InlineData("dave@@example.com", false)]
    [InlineData("Bob <bob@example.com>", false)]
    [InlineData("a b@example.com", false)]
    [InlineData("jösé@example.com", false)]
    [InlineData("", false)]
    public void ParseRecipient_Address_AcceptsOnlyAPlainAsciiAddress(string email, bool valid)
    {
        var mailbox = SendNotificationHandler.ParseRecipient(email, "Name");

        Assert.Equal(valid, mailbox is not null);
    }

    private static (byte[] Bytes, MimeMessage Message) WriteAndParse(string subject = "Hello", string body = "Hi.\n", MailAddress? to = null)
    {
        var bytes = EmlWriter.Write(Message(subject, body, to), Date);
        using var stream = new MemoryStream(bytes);
        return (bytes, MimeMessage.Load(stream));
    }

    private static EmailMessage Message(string subject = "Hello", string body = "Hi.\n", MailAddress? to = null) =>
        new(SendNotificationHandler.From, to ?? new MailAddress("someone@example.com"), subject, body, "job-1@shop.example", "notification:1");
}
