using System.Threading.Channels;

namespace AsyncQueue.Storage.Durable;

/// <summary>
/// What each durable store keeps for one configured queue in this process: the jobs leased for its workers and not yet
/// taken (a channel shared by the queue's consumers), and how many of its workers are waiting for a job. Shared by the
/// durable stores (compiled into each package); each store's queue adds its own signals.
/// </summary>
internal abstract class DurableQueue
{
    private int _waiting;

    protected DurableQueue(string name, QueueOptions options)
    {
        Name = name;
        Options = options;
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    /// <summary>
    /// Gets the leased jobs waiting for a worker of this process. Only the store's lease loop writes (the SQLite writer,
    /// after the lease is committed; the PostgreSQL fetch loop); continuations never run inline on that loop, so no
    /// worker code runs inside it (for SQLite, inside a write transaction).
    /// </summary>
    public Channel<JobRecord> Ready { get; } = Channel.CreateUnbounded<JobRecord>(new UnboundedChannelOptions
    {
        SingleWriter = true,
        AllowSynchronousContinuations = false,
    });

    /// <summary>Gets how many workers wait in <see cref="LeasedJobConsumer.FetchAsync"/>: the demand the store leases for.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    // Interlocked, a full fence: the waiting count is written before the consumer asks the store for a lease.
    public void AddWaiting(int delta) => Interlocked.Add(ref _waiting, delta);
}
