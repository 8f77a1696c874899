using System.Net.Mail;

namespace EmailNotifications.Email;

/// <summary>
/// Wraps a sender and fails every send to one domain with a transient <see cref="SmtpException"/> (421, "connection
/// timed out"), as when a recipient's mail server is down for longer than the retries last. Each failure is one the
/// queue retries, so the email uses up every retry and ends in the dead-letter queue: the path a permanent failure
/// (one attempt, then dead-lettered) never shows.
/// </summary>
/// <param name="inner">The sender for every other domain.</param>
/// <param name="downDomain">The domain whose mail server never answers.</param>
public sealed class OutageEmailSender(IEmailSender inner, string downDomain) : IEmailSender
{
    /// <summary>The domain whose mail server is down in the sample.</summary>
    public const string DefaultDownDomain = "mail.down.example";

    /// <inheritdoc />
    public Task<string> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.Equals(message.To.Host, downDomain, StringComparison.OrdinalIgnoreCase))
        {
            throw new SmtpException(
                SmtpStatusCode.ServiceNotAvailable,
                $"421 4.4.2 {downDomain}: connection timed out (a simulated outage: every attempt fails).");
        }

        return inner.SendAsync(message, cancellationToken);
    }
}
