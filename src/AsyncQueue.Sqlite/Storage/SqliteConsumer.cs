using AsyncQueue.Storage;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// A worker's consumer: takes a job already leased for this queue, or counts itself as waiting, asks the writer to
/// lease, and waits. The writer leases as many jobs in one query as there are waiting (or about to fetch) workers.
/// </summary>
internal sealed class SqliteConsumer(SqliteJobStore store, SqliteQueue queue) : IJobConsumer
{
    public ValueTask<JobRecord> FetchAsync(CancellationToken cancellationToken)
    {
        while (queue.Ready.Reader.TryRead(out var job))
        {
            if (store.StillHolds(job))
            {
                return new ValueTask<JobRecord>(job);
            }
        }

        return FetchSlowAsync(cancellationToken);
    }

    private async ValueTask<JobRecord> FetchSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Count this worker as waiting before asking for a lease, so the writer's next cycle sees the demand.
            queue.AddWaiting(1);
            JobRecord job;
            try
            {
                store.RequestWake();
                job = await queue.Ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                queue.AddWaiting(-1);
            }

            if (store.StillHolds(job))
            {
                return job;
            }
        }
    }
}
