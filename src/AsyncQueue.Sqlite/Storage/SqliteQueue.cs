using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// This process's view of one configured queue: the jobs leased for its workers and not yet taken (a channel shared
/// by the queue's consumers), and how many of its workers are waiting for a job.
/// </summary>
internal sealed class SqliteQueue(int index, string name, QueueOptions options) : DurableQueue(name, options)
{
    private int _untaken;
    private TaskCompletionSource _roomFreed = NewSignal();

    public int Index { get; } = index;

    /// <summary>Gets a task that completes the next time jobs of this queue are leased (room for a bounded queue's waiting producers).</summary>
    public Task RoomFreed => Volatile.Read(ref _roomFreed).Task;

    /// <summary>
    /// Gets how many leased jobs were handed to <see cref="DurableQueue.Ready"/> and not yet taken by a consumer. Not
    /// the channel's own count: a job handed straight to a waiting reader is never counted there, yet its reader still
    /// counts as waiting until it resumes, and a lease step in that moment would lease a second job for the same worker.
    /// </summary>
    public int Untaken => Volatile.Read(ref _untaken);

    /// <summary>Counts leased jobs about to be written to <see cref="DurableQueue.Ready"/>; called before the write, so a consumer's take never precedes it.</summary>
    public void Handed(int count) => Interlocked.Add(ref _untaken, count);

    /// <summary>Counts a job a consumer took from <see cref="DurableQueue.Ready"/>.</summary>
    public void Taken() => Interlocked.Decrement(ref _untaken);

    public void SignalRoomFreed() => Interlocked.Exchange(ref _roomFreed, NewSignal()).TrySetResult();

    // Producers waiting for room resume on the thread pool, never on the writer loop.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
