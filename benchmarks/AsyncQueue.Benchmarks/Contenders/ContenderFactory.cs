namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>Builds a contender with its workers not yet started.</summary>
public static class ContenderFactory
{
    /// <summary>The in-process queues: the engine and the raw baselines.</summary>
    public static readonly ContenderKind[] InProcess =
    [
        ContenderKind.AsyncQueue,
        ContenderKind.AsyncQueuePipeline,
        ContenderKind.ChannelUnbounded,
        ContenderKind.ChannelBounded,
        ContenderKind.ConcurrentQueueSemaphore,
    ];

    /// <summary>The libraries a .NET user would pick instead.</summary>
    public static readonly ContenderKind[] Peers =
    [
        ContenderKind.Coravel,
        ContenderKind.Hangfire,
        ContenderKind.MassTransit,
        ContenderKind.Wolverine,
    ];

    /// <summary>Reads a contender's name from the command line, case-insensitively.</summary>
    /// <exception cref="UsageException">The name is not a <see cref="ContenderKind"/>; the message lists the names.</exception>
    public static ContenderKind Parse(string name) =>
        Enum.TryParse<ContenderKind>(name, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new UsageException($"'{name}' is not a contender; the contenders are {string.Join(", ", Enum.GetNames<ContenderKind>())}.");

    public static IContender Create(ContenderKind kind, int workers) => kind switch
    {
        ContenderKind.AsyncQueue => new AsyncQueueContender(workers, fullPipeline: false),
        ContenderKind.AsyncQueuePipeline => new AsyncQueueContender(workers, fullPipeline: true),
        ContenderKind.PipelineCeiling => new PipelineCeilingContender(workers),
        ContenderKind.ChannelUnbounded => new ChannelContender(workers, capacity: null),
        ContenderKind.ChannelBounded => new ChannelContender(workers, capacity: 1024),
        ContenderKind.ConcurrentQueueSemaphore => new ConcurrentQueueContender(workers),
        ContenderKind.Coravel => new CoravelContender(),
        ContenderKind.Hangfire => HangfireContender.InMemory(workers),
        ContenderKind.MassTransit => new MassTransitContender(workers),
        ContenderKind.Wolverine => new WolverineContender(workers),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The label used in every report.</summary>
    public static string Label(ContenderKind kind) => kind switch
    {
        ContenderKind.AsyncQueue => "AsyncQueue",
        ContenderKind.AsyncQueuePipeline => "AsyncQueue full pipeline",
        ContenderKind.PipelineCeiling => "ceiling: Channel<T> + the full pipeline's features, hand-built",
        ContenderKind.ChannelUnbounded => "Channel<T> unbounded",
        ContenderKind.ChannelBounded => "Channel<T> bounded 1024",
        ContenderKind.ConcurrentQueueSemaphore => "ConcurrentQueue+SemaphoreSlim",
        ContenderKind.Coravel => "Coravel 6.0.2",
        ContenderKind.Hangfire => "Hangfire 1.8.25 InMemory",
        ContenderKind.MassTransit => "MassTransit 8.5.12 in-memory",
        ContenderKind.Wolverine => "Wolverine 6.64.2 local",
        _ => kind.ToString(),
    };
}
