using System.Runtime.CompilerServices;
using AsyncQueue;

namespace EmailNotifications;

/// <summary>
/// What happened, as it happens: prints a line per enqueue, send, failed attempt, retry decision and dead letter. It
/// counts nothing: when the run is over, the queue itself reports how each job ended
/// (<see cref="AsyncQueue.Monitoring.IJobQueueMonitor.GetJobAsync"/>). It is also the <see cref="IDeadLetterObserver"/>
/// that the queue tells of each dead letter.
/// </summary>
/// <param name="output">Where the lines go; written from several workers at once, so it is synchronized here.</param>
public sealed class DeliveryBoard(TextWriter output) : IDeadLetterObserver
{
    // Which notification each failed attempt's exception came from: the retry policy sees only the exception.
    private readonly ConditionalWeakTable<Exception, SendNotification> _failedBy = [];

    /// <summary>Gets the synchronized writer every line goes to.</summary>
    public TextWriter Output { get; } = TextWriter.Synchronized(output);

    /// <summary>Called after an enqueue that created a job.</summary>
    public void Enqueued(SendNotification job, EnqueueResult result) =>
        Output.WriteLine($"📨 {job.NotificationId}: enqueued for {job.RecipientEmail} (job {result.JobId})");

    /// <summary>Called after an enqueue refused as a duplicate: no job was created.</summary>
    public void Duplicate(SendNotification job, EnqueueResult result) =>
        Output.WriteLine($"🖱️ {job.NotificationId}: enqueued again (double click) → {result.Status} of job {result.JobId}; no second email");

    /// <summary>Called by the handler when an attempt after the first starts.</summary>
    public void Retrying(SendNotification job, int attempt) =>
        Output.WriteLine($"🔁 {job.NotificationId}: retry {attempt - 1} (attempt {attempt})");

    /// <summary>Called by the handler just before it throws; the queue then retries or dead-letters the job.</summary>
    public void AttemptFailed(SendNotification job, int attempt, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(exception);
        _failedBy.AddOrUpdate(exception, job);
        Output.WriteLine($"⚠️ {job.NotificationId}: attempt {attempt} failed: {exception.GetType().Name}: {exception.Message}");
    }

    /// <summary>Called by <see cref="ReportingRetryPolicy"/> with the queue's decision on a failed attempt.</summary>
    /// <param name="exception">What the attempt threw.</param>
    /// <param name="attempt">The attempt that failed, from 1.</param>
    /// <param name="delay">How long until the retry runs, or <see langword="null"/> when there will be none.</param>
    public void RetryDecided(Exception exception, int attempt, TimeSpan? delay)
    {
        // An exception no handler reported (a timeout, say) has no notification to name: nothing is printed.
        if (!_failedBy.TryGetValue(exception, out var job))
        {
            return;
        }

        Output.WriteLine(delay switch
        {
            { } wait => $"⏱️ {job.NotificationId}: retry {attempt} of {NotificationDemo.MaxRetries} in {wait.TotalMilliseconds:0} ms",
            null when exception is PermanentJobException => $"🛑 {job.NotificationId}: not retried: a PermanentJobException never is",
            null => $"🛑 {job.NotificationId}: no retries left after {attempt} attempts",
        });
    }

    /// <summary>Called by the handler when the email was sent.</summary>
    public void Sent(SendNotification job, int attempt, string file) =>
        Output.WriteLine($"✅ {job.NotificationId}: sent to {job.RecipientEmail} on attempt {attempt} → {Path.GetFileName(file)}");

    /// <inheritdoc />
    public ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var job = (SendNotification)entry.Job;
        var error = entry.Errors[^1];
        Output.WriteLine($"☠️ {job.NotificationId}: dead-lettered to '{entry.DeadLetterQueue}' after {entry.Attempts} attempt(s): {error.ExceptionType}: {error.Message}");
        return ValueTask.CompletedTask;
    }
}
