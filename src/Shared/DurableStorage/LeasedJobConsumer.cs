using System.Threading.Channels;

namespace AsyncQueue.Storage.Durable;

/// <summary>
/// A worker's consumer of a durable store's queue: takes a job already leased for the queue, or counts itself as
/// waiting, asks the store to lease, and waits. The store leases as many jobs in one query as there are waiting workers.
/// </summary>
/// <param name="ready">The queue's leased jobs, in lease order.</param>
/// <param name="addWaiting">Adds to the queue's count of waiting workers.</param>
/// <param name="requestLease">Asks the store to lease for the waiting workers (the SQLite writer, the PostgreSQL fetch loop).</param>
/// <param name="stillHolds">Whether the store still holds a leased job's lease (a job rescued meanwhile is skipped).</param>
internal sealed class LeasedJobConsumer(Channel<JobRecord> ready, Action<int> addWaiting, Action requestLease, Func<JobRecord, bool> stillHolds) : IJobConsumer
{
    public ValueTask<JobRecord> FetchAsync(CancellationToken cancellationToken)
    {
        while (ready.Reader.TryRead(out var job))
        {
            if (stillHolds(job))
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

            // Count this worker as waiting before asking for a lease, so the store's next lease sees the demand.
            addWaiting(1);
            JobRecord job;
            try
            {
                requestLease();
                job = await ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                addWaiting(-1);
            }

            if (stillHolds(job))
            {
                return job;
            }
        }
    }
}
