using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// One configured queue of the Redis store in this process: its keys' base (<c>{prefix:queue}</c>, one hash tag, so
/// one Cluster slot), its wake-up channel, and the signal its fetch loop waits on.
/// </summary>
internal sealed class RedisQueue : DurableQueue
{
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

    public RedisKey JobKey(string id) => BaseName + ":job:" + id;

    public RedisKey Key(string suffix) => BaseName + ":" + suffix;
}
