namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// One queue under test, built with its workers not yet started: a scenario may pre-fill a backlog first.
/// Its no-op handler signals <see cref="Completion"/>.
/// </summary>
public interface IContender : IAsyncDisposable
{
    /// <summary>Gets the countdown that the contender's handler signals.</summary>
    Completion Completion { get; }

    /// <summary>Starts the workers (or the peer's host).</summary>
    Task StartAsync();

    /// <summary>Enqueues one job the way a user of this queue would.</summary>
    ValueTask EnqueueAsync(Job job);
}
