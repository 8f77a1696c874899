using AsyncQueue.Storage;

namespace AsyncQueue.DeadLetter;

/// <summary>
/// The application's <see cref="IDeadLetterQueue"/>: the store's dead letters, reached through the contract, with each
/// dead-letter queue's name checked first, so a typo is an error instead of an empty list.
/// </summary>
internal sealed class DeadLetterQueue(IJobStore store, DeadLetterTargets targets) : IDeadLetterQueue
{
    private readonly IDeadLetterQueue _store = store.DeadLetters;

    public ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        targets.CheckKnown(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        return _store.ListAsync(deadLetterQueue, skip, take, cancellationToken);
    }

    public ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        targets.CheckKnown(deadLetterQueue);
        return _store.CountAsync(deadLetterQueue, cancellationToken);
    }

    public ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default) => _store.GetAsync(jobId, cancellationToken);

    public ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default) => _store.RequeueAsync(jobId, cancellationToken);

    public ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        targets.CheckKnown(deadLetterQueue);
        return _store.RequeueAllAsync(deadLetterQueue, cancellationToken);
    }

    public ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default) => _store.DeleteAsync(jobId, cancellationToken);

    public ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        targets.CheckKnown(deadLetterQueue);
        return _store.PurgeAsync(deadLetterQueue, cancellationToken);
    }
}
