namespace AsyncQueue;

/// <summary>
/// Told each time a job is dead-lettered, for example to alert someone. Register implementations in DI
/// (<c>services.AddSingleton&lt;IDeadLetterObserver, MyObserver&gt;()</c>); every registered observer is called.
/// </summary>
/// <remarks>An observer's exception is logged and swallowed: the job is already safe in its dead-letter queue.</remarks>
public interface IDeadLetterObserver
{
    /// <summary>Called after a job was moved to its dead-letter queue.</summary>
    /// <param name="entry">The dead-letter entry.</param>
    /// <param name="cancellationToken">Cancelled when the host stops.</param>
    /// <returns>A task that completes when the observer is done.</returns>
    ValueTask OnDeadLetteredAsync(DeadLetterEntry entry, CancellationToken cancellationToken);
}
