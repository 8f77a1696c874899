namespace EmailNotifications.Email;

/// <summary>
/// Hands an email to a mail transport. The sample's <see cref="PickupFolderEmailSender"/> writes <c>.eml</c> files;
/// replace it with your provider (an SMTP relay, an HTTP email API) by registering another implementation.
/// </summary>
/// <remarks>
/// Throw for a failure: the queue retries the job with backoff. Throw <see cref="AsyncQueue.PermanentJobException"/>
/// when a retry cannot help (the provider rejected the recipient), so the job goes straight to the dead-letter queue.
/// </remarks>
public interface IEmailSender
{
    /// <summary>Sends one email.</summary>
    /// <param name="message">The email.</param>
    /// <param name="cancellationToken">Cancelled when the host stops or the attempt times out.</param>
    /// <returns>Where the email went, as the transport names it (here the <c>.eml</c> file's path).</returns>
    Task<string> SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
