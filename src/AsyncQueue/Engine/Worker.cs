using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>One of a queue's <see cref="QueueOptions.MaxConcurrency"/> workers: fetches a job, runs it, repeats.</summary>
internal sealed class Worker(string queue, QueueOptions options, IJobConsumer consumer)
{
    // Written only by this worker; read at shutdown to count the jobs still running. A per-worker flag instead of a
    // shared counter keeps the hot path free of a contended interlocked operation.
    private volatile bool _busy;

    public string Queue { get; } = queue;

    public QueueOptions Options { get; } = options;

    public DeadLetterTarget DeadLetterTarget { get; } = new(options.DeadLetterQueue ?? queue + "-dead-letter", options.DeadLetterRetention, options.DeadLetterCapacity);

    public IJobConsumer Consumer { get; } = consumer;

    public bool Busy
    {
        get => _busy;
        set => _busy = value;
    }

    public Task Completion { get; set; } = Task.CompletedTask;
}
