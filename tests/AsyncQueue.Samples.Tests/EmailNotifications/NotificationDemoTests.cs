using EmailNotifications;

namespace AsyncQueue.Samples.Tests.EmailNotifications;

/// <summary>The sample run in process, checked by its real effects: the pickup folder's files and the dead-letter queue.</summary>
public sealed class NotificationDemoTests(DemoRun run) : IClassFixture<DemoRun>
{
    private static readonly IReadOnlyList<SendNotification> ValidNotifications = DemoNotifications.Deliverable;

    [Fact]
    public void RunAsync_EightNotifications_WritesOneWellFormedEmlPerDeliverableNotification()
    {
        Assert.All(run.Emails, email => Assert.EndsWith(".eml", email.Path, StringComparison.Ordinal));
        Assert.Equal(ValidNotifications.Count, run.Emails.Count);
        foreach (var notification in ValidNotifications)
        {
            var email = Assert.Single(run.Emails, e => e.Message.To.Mailboxes.Single().Address == notification.RecipientEmail);
            EmlAssertions.IsWellFormed(email.Bytes);
            EmlAssertions.IsNotification(email.Message, notification);
        }

        Assert.Equal(run.Emails.Count, run.Emails.Select(e => e.Message.MessageId).Distinct().Count());
        Assert.Equal(ValidNotifications.Count, run.Report.Sent);
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
    public void RunAsync_MistypedAddress_DeadLettersItAfterOneAttemptWithItsPermanentJobException()
    {
        Assert.Equal(2, run.Report.DeadLetters.Count);
        var entry = Assert.Single(run.Report.DeadLetters, e => e.Job.Equals(DemoNotifications.InvalidAddress));

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
        Assert.Contains("🛑 password-reset-ken: not retried: a PermanentJobException never is", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("🔁 password-reset-ken", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_RecipientServerDown_UsesUpThreeRetriesWithGrowingDelaysThenDeadLettersIt()
    {
        var id = DemoNotifications.ServerDown.NotificationId;
        var entry = Assert.Single(run.Report.DeadLetters, e => e.Job.Equals(DemoNotifications.ServerDown));

        Assert.Equal(NotificationDemo.DeadLetterQueue, entry.DeadLetterQueue);
        Assert.Equal(NotificationDemo.MaxRetries + 1, entry.Attempts);
        Assert.Equal([1, 2, 3, 4], entry.Errors.Select(e => e.Attempt));
        Assert.All(entry.Errors, e => Assert.Equal(typeof(System.Net.Mail.SmtpException).FullName, e.ExceptionType));
        Assert.Equal(NotificationDemo.MaxRetries, run.Report.RetriesByNotification[id]);
        Assert.DoesNotContain(run.Emails, e => e.Message.To.Mailboxes.Any(m => m.Address == DemoNotifications.ServerDown.RecipientEmail));

        // The delays the retry policy chose, as printed: 200, 400 and 800 ms plus up to 20% jitter. These are the
        // policy's decisions, not measured times.
        for (var retry = 1; retry <= NotificationDemo.MaxRetries; retry++)
        {
            var prefix = $"⏱️ {id}: retry {retry} of {NotificationDemo.MaxRetries} in ";
            var line = Assert.Single(Lines(), l => l.StartsWith(prefix, StringComparison.Ordinal));
            var delay = double.Parse(line[prefix.Length..^" ms".Length], System.Globalization.CultureInfo.InvariantCulture);
            var backoff = NotificationDemo.FirstRetryDelay.TotalMilliseconds * Math.Pow(2, retry - 1);
            Assert.InRange(delay, backoff, backoff * 1.2 + 1);
            Assert.Contains($"🔁 {id}: retry {retry} (attempt {retry + 1})", Lines());
        }

        Assert.Contains($"🛑 {id}: no retries left after 4 attempts", Lines());
        Assert.Contains(Lines(), l => l.StartsWith($"☠️ {id}: dead-lettered to 'failed-emails' after 4 attempt(s): System.Net.Mail.SmtpException: 421 4.4.2", StringComparison.Ordinal));
    }

    [Fact]
    public void RunAsync_FlakyTransport_RetriesEveryTransientFailureAndPrintsTheSummary()
    {
        // Seed 42 fails some sends first; each failure is printed, then retried, and every email still goes out.
        var flaky = run.Report.RetriesByNotification.Where(p => p.Key != DemoNotifications.ServerDown.NotificationId).ToList();
        Assert.NotEmpty(flaky);
        Assert.All(flaky, p => Assert.InRange(p.Value, 1, NotificationDemo.MaxRetries - 1));
        var failures = Lines().Where(line => line.Contains(": SmtpException: 421 4.3.2 Service not available", StringComparison.Ordinal)).ToList();
        Assert.Equal(flaky.Sum(p => p.Value), failures.Count);
        Assert.All(failures, line => Assert.StartsWith("⚠️ ", line, StringComparison.Ordinal));
        foreach (var (id, retries) in flaky)
        {
            Assert.Contains($"🔁 {id}: retry {retries} (attempt {retries + 1})", run.Output, StringComparison.Ordinal);
            Assert.Contains($"✅ {id}: sent to ", run.Output, StringComparison.Ordinal);
        }

        Assert.Contains(
            $"Summary: 6 sent, {run.Report.Retried} retried ({run.Report.Retries} retries), 2 dead-lettered, 1 duplicate enqueue(s) ignored.",
            run.Output,
            StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_WaitsUntilEveryJobEnded_ReportsEachNotificationsFinalStateAsTheQueueKnowsIt()
    {
        // One outcome per accepted job, the double click's included once, in enqueue order: the run waited through
        // every retry (the server-down email made all 4 attempts) before it stopped the host.
        Assert.Equal(DemoNotifications.All, run.Report.Outcomes.Select(o => o.Notification));
        foreach (var notification in ValidNotifications)
        {
            var job = Assert.Single(run.Report.Outcomes, o => o.Notification == notification).Job;
            Assert.Equal(JobState.Succeeded, job.State);
            Assert.Equal(notification.IdempotencyKey, job.IdempotencyKey);

            // The handler's result names the .eml file the email was written to.
            var email = Assert.Single(run.Emails, e => Path.GetFileName(e.Path) == job.Result);
            Assert.Equal(notification.RecipientEmail, email.Message.To.Mailboxes.Single().Address);
            Assert.Contains($"{notification.NotificationId,-24} Succeeded on attempt {job.Attempt} → {job.Result}", Lines());
        }

        var ken = Assert.Single(run.Report.Outcomes, o => o.Notification == DemoNotifications.InvalidAddress).Job;
        Assert.Equal((JobState.DeadLettered, 1, NotificationDemo.DeadLetterQueue), (ken.State, ken.Attempt, ken.DeadLetterQueue));
        var barbara = Assert.Single(run.Report.Outcomes, o => o.Notification == DemoNotifications.ServerDown).Job;
        Assert.Equal((JobState.DeadLettered, NotificationDemo.MaxRetries + 1, NotificationDemo.DeadLetterQueue), (barbara.State, barbara.Attempt, barbara.DeadLetterQueue));
        Assert.Equal([1, 2, 3, 4], barbara.Errors.Select(e => e.Attempt));
        Assert.Contains("order-confirmed-barbara  DeadLettered to 'failed-emails' after 4 attempt(s)", Lines());

        // The queue's attempts agree with the retry lines printed as they happened.
        foreach (var (id, retries) in run.Report.RetriesByNotification)
        {
            Assert.Equal(retries, Lines().Count(l => l.StartsWith($"🔁 {id}: retry ", StringComparison.Ordinal)));
        }
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
    public async Task RunAsync_ReliableTransport_SendsEveryValidEmailRetryingOnlyTheServerThatIsDown()
    {
        using var root = new TempFolder();

        var report = await NotificationDemo.RunAsync(new DemoOptions(Path.Combine(root.Path, "pickup"), FailureRate: 0), TextWriter.Null).WaitAsync(TimeSpan.FromMinutes(2));

        // Only the recipient whose server is down is retried: that outage is not the transport's.
        Assert.Equal(DemoNotifications.ServerDown.NotificationId, Assert.Single(report.RetriesByNotification).Key);
        Assert.Equal(ValidNotifications.Count, report.Sent);
        Assert.Equal(ValidNotifications.Count, Directory.GetFiles(report.PickupFolder, "*.eml").Length);
        Assert.Equal(2, report.DeadLetters.Count);
    }

    private string[] Lines() => run.Output.Split('\n', StringSplitOptions.TrimEntries);
}
