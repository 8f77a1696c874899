using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// One configured queue of the Redis store in this process: its keys' base (<c>{prefix:queue}</c>, one hash tag, so
/// one Cluster slot), its wake-up channel, and the signal its fetch loop waits on.
/// </summary>
internal sealed class RedisQueue : DurableQueue
{
    private long _handed;
    private long _taken;
    private int _settled;

    public RedisQueue(string name, QueueOptions options, string prefix)
        : base(name, options)
    {
        BaseName = "{" + prefix + ":" + name + "}";
        Base = BaseName;
        WakeChannel = RedisChannel.Literal(BaseName + ":wake");
    }

    /// <summary>Gets the base of every key of this queue, which is also its hash tag.</summary>
    public RedisKey Base { get; }

    /// <summary>Gets <see cref="Base"/> as text.</summary>
    public string BaseName { get; }

    public RedisChannel WakeChannel { get; }

    /// <summary>Gets the fetch loop's signal: a worker waits, a job was enqueued or rescheduled here or elsewhere, a resume.</summary>
    public WakeSignal Wake { get; } = new();

    /// <summary>
    /// Gets how many leased jobs were put in <see cref="DurableQueue.Ready"/> and not yet taken by a worker. Counted
    /// when a worker's consumer checks the job, after it stopped counting itself as waiting, so a worker between the
    /// two is never counted as demand while its job is counted as taken (which leased one job too many).
    /// </summary>
    public long Untaken => Interlocked.Read(ref _handed) - Interlocked.Read(ref _taken);

    /// <summary>
    /// Gets the gate held while a lease's script is on its way and until its jobs are in <see cref="DurableQueue.Ready"/>
    /// (and while untaken jobs are handed back): a count or a status read holds it too, so it never sees a job leased in
    /// Redis that this process has not yet counted as untaken (which read a job leased ahead as running).
    /// </summary>
    public SemaphoreSlim LeaseGate { get; } = new(1, 1);

    public void Handed() => Interlocked.Increment(ref _handed);

    public void Taken() => Interlocked.Increment(ref _taken);

    /// <summary>Gets how many jobs were completed here since the fetch loop last leased for them.</summary>
    public int Settled => Volatile.Read(ref _settled);

    /// <summary>Counts a job just completed: its worker fetches next, so the loop leases for it before it asks.</summary>
    public void AddSettled() => Interlocked.Increment(ref _settled);

    /// <summary>Takes the count of jobs completed since the last call.</summary>
    public int TakeSettled() => Interlocked.Exchange(ref _settled, 0);

    public RedisKey JobKey(string id) => BaseName + ":job:" + id;

    public RedisKey Key(string suffix) => BaseName + ":" + suffix;
}
