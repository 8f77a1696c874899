using System.Net.Mail;
using System.Text;
using AsyncQueue;
using EmailNotifications.Email;

namespace EmailNotifications;

/// <summary>
/// Sends one notification through the <see cref="IEmailSender"/>. An invalid address fails permanently (straight to
/// the dead-letter queue); a transport failure is thrown on, and the queue retries it with backoff.
/// </summary>
public sealed class SendNotificationHandler(IEmailSender sender, DeliveryBoard board) : IJobHandler<SendNotification>
{
    /// <summary>The mailbox notifications come from.</summary>
    public static readonly MailAddress From = new("notifications@shop.example", "Example Shop");

    /// <inheritdoc />
    public async Task HandleAsync(SendNotification job, JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (context.Attempt > 1)
        {
            board.Retrying(job, context.Attempt);
        }

        // Retrying cannot fix a bad address: PermanentJobException dead-letters the job at once, whatever the retry policy.
        var to = ParseRecipient(job.RecipientEmail, job.RecipientName);
        if (to is null)
        {
            var invalid = new PermanentJobException($"'{job.RecipientEmail}' is not a valid email address, so notification '{job.NotificationId}' can never be sent.");
            board.AttemptFailed(job, context.Attempt, invalid);
            throw invalid;
        }

        // The same Message-ID on every attempt of this job, so a receiver can spot a resend.
        var message = new EmailMessage(From, to, job.Subject, job.Body, $"{context.JobId}@{From.Host}", context.IdempotencyKey ?? job.IdempotencyKey);
        string sentTo;
        try
        {
            sentTo = await sender.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            board.AttemptFailed(job, context.Attempt, ex);
            throw;
        }

        // Kept with the job's status, so the summary can say where each email went without a list of its own.
        context.SetResult(Path.GetFileName(sentTo));
        board.Sent(job, context, sentTo);
    }

    /// <summary>
    /// The recipient's mailbox, or <see langword="null"/> when the address is not one plain ASCII <c>local@domain</c>.
    /// <see cref="MailAddress"/> alone is too lenient for a field that should hold only an address: it also accepts
    /// <c>Bob &lt;bob@example.com&gt;</c> and reads <c>a b@example.com</c> as the name "a" and the address <c>b@example.com</c>.
    /// </summary>
    /// <param name="email">The address as the user typed it.</param>
    /// <param name="name">The recipient's name, or empty.</param>
    /// <returns>The mailbox, or <see langword="null"/>.</returns>
    public static MailAddress? ParseRecipient(string email, string name)
    {
        if (!MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !Ascii.IsValid(parsed.User))
        {
            return null;
        }

        return MailAddress.TryCreate(email, name, out var mailbox) ? mailbox : null;
    }
}
