namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// What a broker cannot do, said plainly: a queue is a log of messages handed out in order, with no index by id and no
/// per-queue switch that every consumer obeys. Each member throws <see cref="NotSupportedException"/> naming what to
/// use instead, rather than answering as if the job were unknown.
/// </summary>
internal sealed partial class RabbitMqJobStore
{
    public ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken) =>
        throw new NotSupportedException(
            $"The RabbitMQ store cannot cancel job {id} by id: a broker cannot take one message out of the middle of a queue, nor tell a consumer in another process to stop. Have the handler check for a cancel flag of your own, or use a store with job status (PostgreSQL, Redis, SQLite).");

    public ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken) =>
        throw new NotSupportedException(
            $"The RabbitMQ store cannot look up job {id}: a broker keeps no index of the messages it holds and forgets a message once it is acked. Dead letters can be found with IDeadLetterQueue.GetAsync; for job status, use a store that keeps it (PostgreSQL, Redis, SQLite).");

    public ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken) =>
        throw new NotSupportedException(
            $"The RabbitMQ store cannot pause queue '{queue}': RabbitMQ has no pause that every consuming process obeys. Stop the workers (or their hosts) instead; the jobs wait in the broker.");
}
