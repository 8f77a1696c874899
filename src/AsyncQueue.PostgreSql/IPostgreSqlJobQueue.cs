using Npgsql;

namespace AsyncQueue.PostgreSql;

/// <summary>
/// Enqueues jobs inside the application's own PostgreSQL transaction: the job exists if and only if the transaction
/// commits, so a job is never sent for a change that was rolled back. Resolve it from DI when the store is
/// <c>UsePostgreSql</c>; the transaction must be on the same database as the store.
/// </summary>
public interface IPostgreSqlJobQueue
{
    /// <summary>Adds a job in <paramref name="transaction"/>; workers see it when, and only if, the transaction commits.</summary>
    /// <typeparam name="TJob">The job type; a handler must be registered for it.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="transaction">The caller's open transaction, on the store's database.</param>
    /// <param name="options">The queue (else the queue named after the job's kind), idempotency key, delay and attempt limit.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Accepted with the job's id, or duplicate with the id of the job that holds the idempotency key.</returns>
    /// <exception cref="JobTypeNotRegisteredException">No handler is registered for <typeparamref name="TJob"/>.</exception>
    /// <exception cref="QueueNotConfiguredException">The queue is not configured; set <see cref="EnqueueOptions.Queue"/>.</exception>
    /// <remarks><see cref="QueueOptions.Capacity"/> is not checked here: the caller's transaction decides.</remarks>
    ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, NpgsqlTransaction transaction, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull;
}
