namespace AsyncQueue.Storage.Durable;

/// <summary>How a durable store tells a record it holds that another process asked to cancel its job. Shared by the durable stores (compiled into each package).</summary>
internal static class CancellationRequests
{
    /// <summary>
    /// Calls <see cref="JobRecord.RequestCancellation"/> on the thread pool, once per record: it runs the dispatcher's
    /// callback, which cancels the handler's token and so runs the handler's own registrations, and none of that may
    /// run on the store's writer loop or heartbeat.
    /// </summary>
    public static void Deliver(JobRecord record)
    {
        if (!record.CancellationRequested)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static held => held.RequestCancellation(), record, preferLocal: false);
        }
    }
}
