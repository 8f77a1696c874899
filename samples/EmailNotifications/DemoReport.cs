using AsyncQueue;

namespace EmailNotifications;

/// <summary>What a run of the sample did.</summary>
/// <param name="Enqueues">Every enqueue in order, with its result: accepted, or a duplicate of an earlier job.</param>
/// <param name="Outcomes">
/// How each accepted notification's job ended, in enqueue order, as the queue reports it
/// (<see cref="AsyncQueue.Monitoring.IJobQueueMonitor.GetJobAsync"/>; on RabbitMQ, which keeps no job status, as the
/// handler and the dead-letter observer saw it): succeeded with the <c>.eml</c> file's name as its
/// <see cref="JobInfo.Result"/>, or dead-lettered, with its attempts and errors.
/// </param>
/// <param name="DeadLetters">This run's entries of the <c>failed-emails</c> dead-letter queue, as <see cref="IDeadLetterQueue"/> lists them.</param>
/// <param name="PickupFolder">The pickup folder's full path.</param>
public sealed record DemoReport(
    IReadOnlyList<(SendNotification Notification, EnqueueResult Result)> Enqueues,
    IReadOnlyList<(SendNotification Notification, JobInfo Job)> Outcomes,
    IReadOnlyList<DeadLetterEntry> DeadLetters,
    string PickupFolder)
{
    /// <summary>Gets how many emails were sent: the jobs that succeeded.</summary>
    public int Sent => Outcomes.Count(o => o.Job.State == JobState.Succeeded);

    /// <summary>Gets how many retries each notification that needed one took, by notification id: its attempts after the first.</summary>
    public IReadOnlyDictionary<string, int> RetriesByNotification =>
        Outcomes.Where(o => o.Job.Attempt > 1).ToDictionary(o => o.Notification.NotificationId, o => o.Job.Attempt - 1, StringComparer.Ordinal);

    /// <summary>Gets how many notifications needed at least one retry.</summary>
    public int Retried => RetriesByNotification.Count;

    /// <summary>Gets how many retries ran in all.</summary>
    public int Retries => RetriesByNotification.Values.Sum();

    /// <summary>Gets how many enqueues were refused as duplicates.</summary>
    public int Duplicates => Enqueues.Count(e => e.Result.Status == EnqueueStatus.Duplicate);
}
