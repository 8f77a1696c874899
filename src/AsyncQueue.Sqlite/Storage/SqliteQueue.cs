using System.Threading.Channels;
using AsyncQueue.Storage;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// This process's view of one configured queue: the jobs leased for its workers and not yet taken (a channel shared
/// by the queue's consumers), and how many of its workers are waiting for a job.
/// </summary>
internal sealed class SqliteQueue
{
    private int _waiting;
    private TaskCompletionSource _roomFreed = NewSignal();

    public SqliteQueue(int index, string name, QueueOptions options)
    {
        Index = index;
        Name = name;
        Options = options;
        DeadLetterTarget = new DeadLetterTarget(options.DeadLetterQueue ?? name + "-dead-letter", options.DeadLetterRetention, options.DeadLetterCapacity);
    }

    public int Index { get; }

    public string Name { get; }

    public QueueOptions Options { get; }

    /// <summary>Gets where the store sends the queue's jobs that it dead-letters itself (expired leases, unreadable rows), as the dispatcher would.</summary>
    public DeadLetterTarget DeadLetterTarget { get; }

    /// <summary>
    /// Gets the leased jobs waiting for a worker of this process. Only the writer loop writes, after the lease is
    /// committed; continuations never run inline on the writer, so no worker code runs inside a write transaction.
    /// </summary>
    public Channel<JobRecord> Ready { get; } = Channel.CreateUnbounded<JobRecord>(new UnboundedChannelOptions
    {
        SingleWriter = true,
        AllowSynchronousContinuations = false,
    });

    /// <summary>Gets how many workers wait in <see cref="AsyncQueue.Storage.Durable.LeasedJobConsumer.FetchAsync"/>: the demand the writer leases for.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Gets a task that completes the next time jobs of this queue are leased (room for a bounded queue's waiting producers).</summary>
    public Task RoomFreed => Volatile.Read(ref _roomFreed).Task;

    // Interlocked, a full fence: the waiting count is written before the consumer asks the writer for a lease.
    public void AddWaiting(int delta) => Interlocked.Add(ref _waiting, delta);

    public void SignalRoomFreed() => Interlocked.Exchange(ref _roomFreed, NewSignal()).TrySetResult();

    // Producers waiting for room resume on the thread pool, never on the writer loop.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
