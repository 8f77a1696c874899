using System.Diagnostics.CodeAnalysis;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>The dead-letter queues of a <see cref="RabbitMqJobStore"/>, as the application's <see cref="IDeadLetterQueue"/> reaches them.</summary>
[RequiresUnreferencedCode(RabbitMqJobQueueBuilderExtensions.SerializationMessage)]
[RequiresDynamicCode(RabbitMqJobQueueBuilderExtensions.SerializationMessage)]
internal sealed class RabbitMqDeadLetters(RabbitMqJobStore store) : IDeadLetterQueue
{
    public ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default) =>
        store.ListDeadLettersAsync(deadLetterQueue, skip, take, cancellationToken);

    public ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default) =>
        store.CountDeadLettersAsync(deadLetterQueue, cancellationToken);

    public ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        store.GetDeadLetterAsync(jobId, cancellationToken);

    public ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        store.RequeueDeadLetterAsync(jobId, cancellationToken);

    public ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default) =>
        store.RequeueAllDeadLettersAsync(deadLetterQueue, cancellationToken);

    public ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        store.DeleteDeadLetterAsync(jobId, cancellationToken);

    public ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default) =>
        store.PurgeDeadLettersAsync(deadLetterQueue, cancellationToken);
}
