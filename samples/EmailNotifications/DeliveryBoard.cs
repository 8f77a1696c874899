using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AsyncQueue;

namespace EmailNotifications;

/// <summary>
/// What happened, as it happens: prints a line per enqueue, send, failed attempt, retry and dead letter, counts them,
/// and completes <see cref="AllDone"/> when every accepted notification has been sent or dead-lettered. It is also the
/// <see cref="IDeadLetterObserver"/> that the queue tells of each dead letter.
/// </summary>
/// <param name="output">Where the lines go; written from several workers at once, so it is synchronized here.</param>
public sealed class DeliveryBoard(TextWriter output) : IDeadLetterObserver
{
    private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, int> _retriesByNotification = new(StringComparer.Ordinal);

    // Which notification each failed attempt's exception came from: the retry policy sees only the exception.
    private readonly ConditionalWeakTable<Exception, SendNotification> _failedBy = [];

    // One for the enqueuer, released by EnqueuingDone, so that jobs finishing while others are still being enqueued
    // cannot complete AllDone early; plus one for each accepted job until it is sent or dead-lettered.
    private int _unfinished = 1;
    private int _sent;

    /// <summary>Gets the synchronized writer every line goes to.</summary>
    public TextWriter Output { get; } = TextWriter.Synchronized(output);

    /// <summary>Gets a task that completes when every accepted notification has been sent or dead-lettered.</summary>
    public Task AllDone => _allDone.Task;

    /// <summary>Gets how many emails were sent.</summary>
    public int SentCount => Volatile.Read(ref _sent);

    /// <summary>Gets how many retries each notification that needed one took, by notification id.</summary>
    public IReadOnlyDictionary<string, int> RetriesByNotification => _retriesByNotification.ToDictionary(StringComparer.Ordinal);

    /// <summary>Called before an enqueue: the job may finish before the enqueue returns.</summary>
    public void Enqueuing() => Interlocked.Increment(ref _unfinished);

    /// <summary>Called after an enqueue that created a job.</summary>
    public void Enqueued(SendNotification job, EnqueueResult result) =>
        Output.WriteLine($"📨 {job.NotificationId}: enqueued for {job.RecipientEmail} (job {result.JobId})");

    /// <summary>Called after an enqueue refused as a duplicate: no job was created, so nothing will finish.</summary>
    public void Duplicate(SendNotification job, EnqueueResult result)
    {
        Output.WriteLine($"🖱️ {job.NotificationId}: enqueued again (double click) → {result.Status} of job {result.JobId}; no second email");
        Finish();
    }

    /// <summary>Called when every notification has been enqueued.</summary>
    public void EnqueuingDone() => Finish();

    /// <summary>Called by the handler when an attempt after the first starts.</summary>
    public void Retrying(SendNotification job, int attempt)
    {
        _retriesByNotification.AddOrUpdate(job.NotificationId, 1, static (_, retries) => retries + 1);
        Output.WriteLine($"🔁 {job.NotificationId}: retry {attempt - 1} (attempt {attempt})");
    }

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
    public void Sent(SendNotification job, int attempt, string file)
    {
        Interlocked.Increment(ref _sent);
        Output.WriteLine($"✅ {job.NotificationId}: sent to {job.RecipientEmail} on attempt {attempt} → {Path.GetFileName(file)}");
        Finish();
    }

    /// <inheritdoc />
    public ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var job = (SendNotification)entry.Job;
        var error = entry.Errors[^1];
        Output.WriteLine($"☠️ {job.NotificationId}: dead-lettered to '{entry.DeadLetterQueue}' after {entry.Attempts} attempt(s): {error.ExceptionType}: {error.Message}");
        Finish();
        return ValueTask.CompletedTask;
    }

    private void Finish()
    {
        if (Interlocked.Decrement(ref _unfinished) == 0)
        {
            _allDone.TrySetResult();
        }
    }
}
