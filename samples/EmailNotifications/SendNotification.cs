using AsyncQueue;

namespace EmailNotifications;

/// <summary>A job: email one notification to one recipient.</summary>
/// <param name="NotificationId">Identifies the notification (for example <c>password-reset-grace-7f3a</c>); one email is sent per id.</param>
/// <param name="RecipientEmail">The recipient's address, as the user typed it: it may be invalid.</param>
/// <param name="RecipientName">The recipient's name, any Unicode text, or empty.</param>
/// <param name="Subject">The subject.</param>
/// <param name="Body">The plain-text body.</param>
[JobKind("send-notification")]
public sealed record SendNotification(string NotificationId, string RecipientEmail, string RecipientName, string Subject, string Body)
{
    /// <summary>Gets the idempotency key to enqueue it with: a second enqueue of the same notification (a double click) sends nothing.</summary>
    public string IdempotencyKey => "notification:" + NotificationId;
}
