using AsyncQueue.Storage;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// A worker's consumer: takes a job already leased for this queue, or counts itself as waiting, wakes the queue's fetch
/// loop and waits. The loop leases as many jobs in one query as there are waiting workers.
/// </summary>
internal sealed class PostgreSqlConsumer(PostgreSqlJobStore store, PostgreSqlQueue queue) : IJobConsumer
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

            // Count this worker as waiting before waking the loop, so the loop sees the demand.
            queue.AddWaiting(1);
            JobRecord job;
            try
            {
                queue.Wake();
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
