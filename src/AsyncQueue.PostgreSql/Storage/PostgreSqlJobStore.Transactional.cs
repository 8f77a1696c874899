using System.Diagnostics;
using System.Reflection;
using AsyncQueue.Storage;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Enqueue inside the caller's transaction: the insert and its notification commit, or roll back, with the caller's own writes.</summary>
internal sealed partial class PostgreSqlJobStore : IPostgreSqlJobQueue
{
    public async ValueTask<EnqueueResult> EnqueueAsync<TJob>(TJob job, NpgsqlTransaction transaction, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
        where TJob : notnull
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection ?? throw new ArgumentException("The transaction is already committed or rolled back.", nameof(transaction));
        var type = job.GetType();
        var kind = type.GetCustomAttribute<JobKindAttribute>()?.Kind ?? type.Name;
        if (!_kinds.TryGetJobType(kind, out var registered) || registered != type)
        {
            throw new JobTypeNotRegisteredException(type);
        }

        var queue = GetQueue(options?.Queue ?? kind);
        var now = _time.GetUtcNow();
        var notBefore = options?.NotBefore ?? (options?.Delay is { } delay ? now + delay : null);
        var record = new JobRecord(JobId.NewId(), kind, queue.Name, job, now)
        {
            IdempotencyKey = options?.IdempotencyKey,
            MaxAttempts = options?.MaxAttempts,
            NotBefore = notBefore,
            TraceParent = Activity.Current?.Id,
            TraceState = Activity.Current?.TraceStateString,
            Priority = options?.Priority ?? JobPriority.Normal,
        };
        var payload = _payloads.Serialize(record);
        var results = new EnqueueResult[1];
        if (record.IdempotencyKey is null)
        {
            await InsertManyAsync(connection, transaction, queue, [record], [payload], 0, 1, results, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            results[0] = await InsertKeyedAsync(connection, transaction, queue, record, payload, now, cancellationToken).ConfigureAwait(false);
        }

        // No instance id in the payload: the commit must wake this process's workers too, and it happens after this call.
        // Polling only, every process (this one too) finds the job at its next poll.
        if (_options.UseListenNotify)
        {
            using var notify = new NpgsqlCommand(_sql.Notify, connection, transaction).Text("channel", _channel).Text("payload", queue.Name);
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return results[0];
    }
}
