using System.Net.Mail;

namespace EmailNotifications.Email;

/// <summary>One email, as handed to an <see cref="IEmailSender"/>: a plain-text message from one mailbox to one mailbox.</summary>
/// <param name="From">The sender's mailbox.</param>
/// <param name="To">The recipient's mailbox.</param>
/// <param name="Subject">The subject, any Unicode text.</param>
/// <param name="Body">The plain-text body, any Unicode text, with any line endings.</param>
/// <param name="MessageId">The Message-ID without its angle brackets (<c>left@right</c>); the same on every retry of one job.</param>
/// <param name="IdempotencyKey">
/// Identifies the notification. Providers that accept an idempotency key (many HTTP email APIs do) should be given it,
/// so that a retry after a lost response still sends one email.
/// </param>
public sealed record EmailMessage(MailAddress From, MailAddress To, string Subject, string Body, string MessageId, string IdempotencyKey);
