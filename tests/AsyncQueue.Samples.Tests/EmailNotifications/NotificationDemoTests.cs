using EmailNotifications;

namespace AsyncQueue.Samples.Tests.EmailNotifications;

/// <summary>The sample run in process, checked by its real effects: the pickup folder's files and the dead-letter queue.</summary>
public sealed class NotificationDemoTests(DemoRun run) : IClassFixture<DemoRun>
{
    private static readonly SendNotification[] ValidNotifications = [.. DemoNotifications.All.Where(n => n != DemoNotifications.InvalidAddress)];

    [Fact]
    public void RunAsync_SevenNotifications_WritesOneWellFormedEmlPerValidNotification()
    {
        Assert.All(run.Emails, email => Assert.EndsWith(".eml", email.Path, StringComparison.Ordinal));
        Assert.Equal(ValidNotifications.Length, run.Emails.Count);
        foreach (var notification in ValidNotifications)
        {
            var email = Assert.Single(run.Emails, e => e.Message.To.Mailboxes.Single().Address == notification.RecipientEmail);
            EmlAssertions.IsWellFormed(email.Bytes);
            EmlAssertions.IsNotification(email.Message, notification);
        }

        Assert.Equal(run.Emails.Count, run.Emails.Select(e => e.Message.MessageId).Distinct().Count());
        Assert.Equal(ValidNotifications.Length, run.Report.Sent);
    }

    [Fact]
    public void RunAsync_DoubleClick_SecondEnqueueIsADuplicateOfTheFirstAndOneEmailIsSent()
    {
        var clicks = run.Report.Enqueues.Where(e => e.Notification == DemoNotifications.DoubleClicked).ToList();

        Assert.Equal(2, clicks.Count);
        Assert.Equal(EnqueueStatus.Accepted, clicks[0].Result.Status);
        Assert.Equal(EnqueueStatus.Duplicate, clicks[1].Result.Status);
        Assert.Equal(clicks[0].Result.JobId, clicks[1].Result.JobId);
        Assert.Equal(1, run.Report.Duplicates);
        Assert.Single(run.Emails, e => e.Message.To.Mailboxes.Single().Address == DemoNotifications.DoubleClicked.RecipientEmail);
        Assert.Contains($"🖱️ password-reset-grace: enqueued again (double click) → Duplicate of job {clicks[0].Result.JobId}; no second email", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_MistypedAddress_DeadLetterQueueHoldsExactlyItWithItsPermanentJobException()
    {
        var entry = Assert.Single(run.Report.DeadLetters);

        Assert.Equal(DemoNotifications.InvalidAddress, entry.Job);
        Assert.Equal(NotificationDemo.DeadLetterQueue, entry.DeadLetterQueue);
        Assert.Equal(NotificationDemo.Queue, entry.Queue);
        Assert.Equal("send-notification", entry.Kind);
        Assert.Equal(1, entry.Attempts);
        var error = Assert.Single(entry.Errors);
        Assert.Equal(typeof(PermanentJobException).FullName, error.ExceptionType);
        Assert.Contains("'ken.example.com' is not a valid email address", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Emails, e => e.Message.To.Mailboxes.Any(m => m.Address.Contains("ken", StringComparison.Ordinal)));
        Assert.Contains($"attempt 1: AsyncQueue.PermanentJobException: {error.Message}", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_FlakyTransport_RetriesEveryTransientFailureAndPrintsTheSummary()
    {
        // Seed 42 fails some sends first; each failure is printed, then retried, and every email still goes out.
        Assert.NotEmpty(run.Report.RetriesByNotification);
        Assert.All(run.Report.RetriesByNotification.Values, retries => Assert.InRange(retries, 1, NotificationDemo.MaxRetries - 1));
        var failures = run.Output.Split('\n').Where(line => line.StartsWith("⚠️ ", StringComparison.Ordinal)).ToList();
        Assert.Equal(run.Report.Retries, failures.Count);
        Assert.All(failures, line => Assert.Contains(": SmtpException: 421 4.3.2 Service not available", line, StringComparison.Ordinal));
        foreach (var (id, retries) in run.Report.RetriesByNotification)
        {
            Assert.Contains($"🔁 {id}: retry {retries} (attempt {retries + 1})", run.Output, StringComparison.Ordinal);
            Assert.Contains($"✅ {id}: sent to ", run.Output, StringComparison.Ordinal);
        }

        Assert.Contains(
            $"Summary: 6 sent, {run.Report.Retried} retried ({run.Report.Retries} retries), 1 dead-lettered, 1 duplicate enqueue(s) ignored.",
            run.Output,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SameSeedTwice_FailsTheSameEmailsTheSameNumberOfTimes()
    {
        using var root = new TempFolder();

        var again = await NotificationDemo.RunAsync(new DemoOptions(Path.Combine(root.Path, "pickup")), TextWriter.Null).WaitAsync(TimeSpan.FromMinutes(2));

        // Which worker sends first differs between runs; which emails fail, and how often, does not.
        Assert.Equal(run.Report.RetriesByNotification.OrderBy(p => p.Key, StringComparer.Ordinal), again.RetriesByNotification.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunAsync_ReliableTransport_SendsEveryValidEmailWithoutRetries()
    {
        using var root = new TempFolder();

        var report = await NotificationDemo.RunAsync(new DemoOptions(Path.Combine(root.Path, "pickup"), FailureRate: 0), TextWriter.Null).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Empty(report.RetriesByNotification);
        Assert.Equal(ValidNotifications.Length, report.Sent);
        Assert.Equal(ValidNotifications.Length, Directory.GetFiles(report.PickupFolder, "*.eml").Length);
        Assert.Single(report.DeadLetters);
    }
}
