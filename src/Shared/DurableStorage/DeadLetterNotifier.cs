namespace AsyncQueue.Storage.Durable;

/// <summary>
/// Tells every <see cref="IDeadLetterObserver"/> of a job a durable store dead-lettered itself (a crash past its
/// attempts, an unreadable row), on the thread pool after the commit, so no observer runs inside the store's writer.
/// Shared by the durable stores (compiled into each package).
/// </summary>
internal sealed class DeadLetterNotifier(IEnumerable<IDeadLetterObserver> observers, Action<Exception, DeadLetterEntry> observerFailed)
{
    private readonly IDeadLetterObserver[] _observers = [.. observers];

    public void Notify(DeadLetterEntry entry)
    {
        if (_observers.Length == 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            foreach (var observer in _observers)
            {
                try
                {
                    await observer.OnDeadLetteredAsync(entry, CancellationToken.None).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // An observer's failure must not touch the job, which is already safe.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    observerFailed(ex, entry);
                }
            }
        });
    }
}
