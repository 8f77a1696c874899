using AsyncQueue.Storage.Durable;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// This process's view of one configured queue: the jobs leased for its workers and not yet taken (a channel shared by
/// the queue's consumers), how many of its workers are waiting, and the signal that wakes the queue's fetch loop.
/// </summary>
internal sealed class PostgreSqlQueue(string name, QueueOptions options) : DurableQueue(name, options)
{
    private int _settled;
    private TaskCompletionSource _wake = NewSignal();

    /// <summary>
    /// Gets a task that completes at the next <see cref="Wake"/>. The fetch loop takes it before it looks at the demand
    /// and the table, so a wake-up that comes while it looks is never lost.
    /// </summary>
    public Task WakeTask => Volatile.Read(ref _wake).Task;

    /// <summary>Counts jobs just settled: their workers fetch next, so the loop leases for them before they ask.</summary>
    public void AddSettled(int count)
    {
        Interlocked.Add(ref _settled, count);
        Wake();
    }

    public int TakeSettled() => Interlocked.Exchange(ref _settled, 0);

    // Swapping in a fresh signal before completing the old one: a waiter holding the old task wakes, later ones wait anew.
    public void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
