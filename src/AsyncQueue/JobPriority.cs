namespace AsyncQueue;

/// <summary>
/// How urgent a job is within its queue: a worker takes the most urgent due job first, and jobs of one priority in the
/// order they were enqueued (see <see cref="EnqueueOptions.Priority"/>).
/// </summary>
/// <remarks>
/// Strict, not aged: while a queue always has more urgent jobs due than its workers can run, its less urgent ones wait.
/// Give work that must not wait behind a flood its own queue (with its own <see cref="QueueOptions.MaxConcurrency"/>)
/// instead of a lower priority.
/// </remarks>
public enum JobPriority
{
    /// <summary>Runs after every more urgent due job of its queue.</summary>
    Low = 0,

    /// <summary>The default.</summary>
    Normal = 1,

    /// <summary>Runs before normal and low jobs of its queue.</summary>
    High = 2,

    /// <summary>Runs before every other job of its queue.</summary>
    Urgent = 3,
}
