using AsyncQueue.Storage;

namespace AsyncQueue.Tests.Storage;

/// <summary>A queue's counts, read at once: the in-memory store answers <see cref="IJobStore.CountAsync"/> synchronously.</summary>
internal static class StoreCounts
{
    public static long CountWaiting(this IJobStore store, string queue) => Counts(store, queue).Waiting;

    public static long CountScheduled(this IJobStore store, string queue) => Counts(store, queue).Scheduled;

    private static QueueCounts Counts(IJobStore store, string queue)
    {
        var counts = store.CountAsync(queue, CancellationToken.None).AsTask();
        Assert.True(counts.IsCompletedSuccessfully, "the in-memory store counts synchronously");
        return counts.Result;
    }
}
