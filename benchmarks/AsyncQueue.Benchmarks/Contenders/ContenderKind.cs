namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>Every queue measured, in the order the reports list them.</summary>
public enum ContenderKind
{
    /// <summary>AsyncQueue with a singleton handler: the pure engine, no per-job scope.</summary>
    AsyncQueue,

    /// <summary>AsyncQueue with the full pipeline (see <see cref="FullPipeline"/>).</summary>
    AsyncQueuePipeline,

    /// <summary>The full pipeline's features hand-built on an unbounded <see cref="System.Threading.Channels.Channel{T}"/>: a ceiling for it, not a peer (see <see cref="PipelineCeilingContender"/>).</summary>
    PipelineCeiling,

    /// <summary>An unbounded <see cref="System.Threading.Channels.Channel{T}"/> with N reader loops: the reference.</summary>
    ChannelUnbounded,

    /// <summary>A bounded (1024, wait when full) <see cref="System.Threading.Channels.Channel{T}"/> with N reader loops.</summary>
    ChannelBounded,

    /// <summary>A <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> counted by a <see cref="SemaphoreSlim"/>, N worker loops.</summary>
    ConcurrentQueueSemaphore,

    /// <summary>Coravel's queue, consumption delay 1 s.</summary>
    Coravel,

    /// <summary>Hangfire with Hangfire.InMemory storage.</summary>
    Hangfire,

    /// <summary>MassTransit's in-memory transport.</summary>
    MassTransit,

    /// <summary>Wolverine's local queues.</summary>
    Wolverine,
}
