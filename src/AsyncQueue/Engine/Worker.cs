using System.Runtime.InteropServices;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>One of a queue's <see cref="QueueOptions.MaxConcurrency"/> workers: fetches a job, runs it, repeats.</summary>
internal sealed class Worker(string queue, QueueOptions options, IJobConsumer consumer)
{
    // Written only by this worker, twice per job; read at shutdown and by the in-flight gauge. A per-worker flag
    // instead of a shared counter keeps the hot path free of a contended interlocked operation, and the padding keeps
    // workers (allocated together at start) from sharing the flag's cache line.
#pragma warning disable CS0169 // Never read: the fields exist only to take up space.
    private readonly CacheLinePadding _before;
    private volatile bool _busy;
    private readonly CacheLinePadding _after;
#pragma warning restore CS0169

    public string Queue { get; } = queue;

    public QueueOptions Options { get; } = options;

    public IJobConsumer Consumer { get; } = consumer;

    public bool Busy
    {
        get => _busy;
        set => _busy = value;
    }

    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>
    /// Gets or sets the timestamp at which the running attempt's completion was timed (0 when it was not), so the
    /// attempt's duration reuses that clock read. Read and written only by this worker's own loop.
    /// </summary>
    public long CompletedTimestamp { get; set; }

    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private readonly struct CacheLinePadding;
}
