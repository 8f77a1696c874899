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

    public void Handed() => Interlocked.Increment(ref _handed);

    public void Taken() => Interlocked.Increment(ref _taken);

    public RedisKey JobKey(string id) => BaseName + ":job:" + id;

    public RedisKey Key(string suffix) => BaseName + ":" + suffix;
}
