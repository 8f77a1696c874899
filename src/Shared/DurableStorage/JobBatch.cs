namespace AsyncQueue.Storage.Durable;

/// <summary>The rule every store keeps for <see cref="IJobStore.EnqueueBatchAsync"/>: one batch, one queue. Shared by the durable stores (compiled into each package).</summary>
internal static class JobBatch
{
    /// <summary>Gets the queue every job of a non-empty batch names.</summary>
    /// <param name="jobs">The batch, with at least one job.</param>
    /// <returns>The queue's name.</returns>
    /// <exception cref="ArgumentException">Two jobs of the batch name different queues.</exception>
    public static string QueueOf(IReadOnlyList<JobRecord> jobs)
    {
        var queue = jobs[0].Queue;
        foreach (var job in jobs)
        {
            if (job.Queue != queue)
            {
                throw new ArgumentException($"Every job of a batch must name the same queue, but '{queue}' and '{job.Queue}' were mixed.", nameof(jobs));
            }
        }

        return queue;
    }
}
