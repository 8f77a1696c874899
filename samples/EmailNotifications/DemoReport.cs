using AsyncQueue;

namespace EmailNotifications;

/// <summary>What a run of the sample did.</summary>
/// <param name="Enqueues">Every enqueue in order, with its result: accepted, or a duplicate of an earlier job.</param>
/// <param name="Sent">How many emails were written to the pickup folder.</param>
/// <param name="RetriesByNotification">How many retries each notification that needed one took, by notification id.</param>
/// <param name="DeadLetters">The entries of the <c>failed-emails</c> dead-letter queue, as <see cref="IDeadLetterQueue"/> lists them.</param>
/// <param name="PickupFolder">The pickup folder's full path.</param>
public sealed record DemoReport(
    IReadOnlyList<(SendNotification Notification, EnqueueResult Result)> Enqueues,
    int Sent,
    IReadOnlyDictionary<string, int> RetriesByNotification,
    IReadOnlyList<DeadLetterEntry> DeadLetters,
    string PickupFolder)
{
    /// <summary>Gets how many notifications needed at least one retry.</summary>
    public int Retried => RetriesByNotification.Count;

    /// <summary>Gets how many retries ran in all.</summary>
    public int Retries => RetriesByNotification.Values.Sum();

    /// <summary>Gets how many enqueues were refused as duplicates.</summary>
    public int Duplicates => Enqueues.Count(e => e.Result.Status == EnqueueStatus.Duplicate);
}
