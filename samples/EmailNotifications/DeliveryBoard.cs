using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AsyncQueue;

namespace EmailNotifications;

/// <summary>
/// What happened, as it happens: prints a line per enqueue, send, failed attempt, retry decision and dead letter. It
/// is also the <see cref="IDeadLetterObserver"/> that the queue tells of each dead letter. On the in-memory store the
/// queue itself reports how each job ended (<see cref="AsyncQueue.Monitoring.IJobQueueMonitor.GetJobAsync"/>); on
/// RabbitMQ, which keeps no job status, the board's record of each send and dead letter is the report
/// (<see cref="WaitUntilEndedAsync"/>).
/// </summary>
/// <param name="output">Where the lines go; written from several workers at once, so it is synchronized here.</param>
public sealed class DeliveryBoard(TextWriter output) : IDeadLetterObserver
{
    // Which notification each failed attempt's exception came from: the retry policy sees only the exception.
    private readonly ConditionalWeakTable<Exception, SendNotification> _failedBy = [];

    // How each job ended, as the handler (sent) and the dead-letter observer saw it; each ending also announced on _ends.
    private readonly ConcurrentDictionary<JobId, JobInfo> _ended = new();
    private readonly Channel<JobId> _ends = Channel.CreateUnbounded<JobId>();

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

    /// <summary>Called after an enqueue that the sample itself refused (on RabbitMQ, which keeps no idempotency keys).</summary>
    public void SkippedAgain(SendNotification job, JobId first) =>
        Output.WriteLine($"🖱️ {job.NotificationId}: enqueued again (double click) → not enqueued: it is job {first} of this run (RabbitMQ keeps no idempotency keys, so the sample checks); no second email");

    /// <summary>Called by the handler when the email was sent.</summary>
    /// <param name="job">The notification.</param>
    /// <param name="context">The attempt that sent it.</param>
    /// <param name="file">The <c>.eml</c> file written.</param>
    public void Sent(SendNotification job, JobContext context, string file)
    {
        ArgumentNullException.ThrowIfNull(job);
        Ended(new JobInfo(context.JobId, context.Queue, context.Kind, JobState.Succeeded, context.EnqueuedAt)
        {
            Attempt = context.Attempt,
            Result = Path.GetFileName(file),
        });
        Output.WriteLine($"✅ {job.NotificationId}: sent to {job.RecipientEmail} on attempt {context.Attempt} → {Path.GetFileName(file)}");
    }

    /// <summary>
    /// Waits until each job has ended, sent or dead-lettered, as the handler and the dead-letter observer saw it, and
    /// returns how each ended. For a store that keeps no job status (RabbitMQ), where
    /// <see cref="AsyncQueue.Monitoring.IJobQueueMonitor.GetJobAsync"/> throws.
    /// </summary>
    /// <param name="jobs">The jobs to wait for.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>How each job ended, in the order given.</returns>
    public async Task<IReadOnlyList<JobInfo>> WaitUntilEndedAsync(IReadOnlyList<JobId> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        while (!jobs.All(_ended.ContainsKey))
        {
            await _ends.Reader.ReadAsync(cancellationToken);
        }

        return [.. jobs.Select(id => _ended[id])];
    }

    private void Ended(JobInfo job)
    {
        _ended[job.Id] = job;
        _ends.Writer.TryWrite(job.Id);
    }

    /// <inheritdoc />
    public ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var job = (SendNotification)entry.Job;
        var error = entry.Errors[^1];
        Ended(new JobInfo(entry.JobId, entry.Queue, entry.Kind, JobState.DeadLettered, entry.EnqueuedAt)
        {
            Attempt = entry.Attempts,
            Errors = entry.Errors,
            FinishedAt = entry.DeadLetteredAt,
            DeadLetterQueue = entry.DeadLetterQueue,
        });
        Output.WriteLine($"☠️ {job.NotificationId}: dead-lettered to '{entry.DeadLetterQueue}' after {entry.Attempts} attempt(s): {error.ExceptionType}: {error.Message}");
        return ValueTask.CompletedTask;
    }
}
