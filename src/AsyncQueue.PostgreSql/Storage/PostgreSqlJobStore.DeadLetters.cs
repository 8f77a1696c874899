using System.Data.Common;
using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// The dead-letter queues, in the same database: list, get, requeue, delete, purge, and bounded retention. Implemented
/// explicitly: the store's <see cref="DeadLetters"/> is the only way in (the core wraps it as the application's
/// <see cref="IDeadLetterQueue"/>).
/// </summary>
internal sealed partial class PostgreSqlJobStore : IDeadLetterQueue
{
    public IDeadLetterQueue DeadLetters => this;

    async ValueTask<IReadOnlyList<DeadLetterEntry>> IDeadLetterQueue.ListAsync(string deadLetterQueue, int skip, int take, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EvictStoredTargetAsync(connection, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.ListDeadLetters, connection).Text("dlq", deadLetterQueue).Int("take", take).Int("skip", skip);
        return await ReadDeadLettersAsync(command, cancellationToken).ConfigureAwait(false);
    }

    async ValueTask<long> IDeadLetterQueue.CountAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EvictStoredTargetAsync(connection, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.CountDeadLetters, connection).Text("dlq", deadLetterQueue);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    async ValueTask<DeadLetterEntry?> IDeadLetterQueue.GetAsync(JobId jobId, CancellationToken cancellationToken)
    {
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.GetDeadLetter, connection).Uuid("id", jobId.Value);
        var entries = await ReadDeadLettersAsync(command, cancellationToken).ConfigureAwait(false);
        return entries.Count == 0 ? null : entries[0];
    }

    async ValueTask<bool> IDeadLetterQueue.RequeueAsync(JobId jobId, CancellationToken cancellationToken) =>
        await RequeueCoreAsync(_sql.TakeDeadLetter, command => command.Uuid("id", jobId.Value), cancellationToken).ConfigureAwait(false) > 0;

    ValueTask<int> IDeadLetterQueue.RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return new(RequeueCoreAsync(_sql.TakeAllDeadLetters, command => command.Text("dlq", deadLetterQueue), cancellationToken));
    }

    async ValueTask<bool> IDeadLetterQueue.DeleteAsync(JobId jobId, CancellationToken cancellationToken)
    {
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.DeleteDeadLetterById, connection).Uuid("id", jobId.Value);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    async ValueTask<int> IDeadLetterQueue.PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.PurgeDeadLetters, connection).Text("dlq", deadLetterQueue);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes dead letters out and puts them back in their queues as fresh jobs, in one transaction, in the order they were dead-lettered.</summary>
    private async Task<int> RequeueCoreAsync(string take, Func<NpgsqlCommand, NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        List<DeadLetterRow> taken;
        using (var command = bind(new NpgsqlCommand(take, connection, transaction)))
        {
            taken = await ReadDeadLetterRowsAsync(command, cancellationToken).ConfigureAwait(false);
        }

        // Requeued from the stored row as it is (payload and error history as text), not from the entry.
        taken.Sort(static (a, b) => a.Row.Seq.CompareTo(b.Row.Seq));
        foreach (var (row, queue, _) in taken)
        {
            using var insert = new NpgsqlCommand(_sql.Requeue, connection, transaction)
                .Uuid("id", row.Id)
                .Text("queue", queue)
                .Text("kind", row.Kind)
                .Text("payload", row.Payload)
                .Long("run_at", now)
                .Int("max_attempts", row.MaxAttempts)
                .Long("enqueued_at", row.EnqueuedAt)
                .Text("key", row.IdempotencyKey)
                .Text("errors", row.Errors)
                .Text("trace_parent", row.TraceParent)
                .Text("trace_state", row.TraceState)
                .Int("priority", (int)row.Priority);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (taken.Count > 0 && _options.UseListenNotify)
        {
            using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, q) FROM unnest(@queues::text[]) AS q", connection, transaction)
                .Text("channel", _channel)
                .Array("queues", NpgsqlTypes.NpgsqlDbType.Text, taken.Select(t => t.Queue + "\n" + _instance).Distinct().ToArray());
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (_, name, _) in taken)
        {
            if (_queues.TryGetValue(name, out var queue))
            {
                queue.Wake();
            }
        }

        return taken.Count;
    }

    /// <summary>Stores a dead letter (replacing an older entry of the same job), remembers its queue's retention, and evicts what is past it.</summary>
    private async Task<(DeadLetterEntry Entry, List<(Guid Id, string Kind, string Reason)>? Evicted)> InsertDeadLetterAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, JobRecord record, string? payload, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        using (var delete = new NpgsqlCommand(_sql.DeleteDeadLetterById, connection, transaction).Uuid("id", record.Id.Value))
        {
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using (var insert = new NpgsqlCommand(_sql.InsertDeadLetter, connection, transaction)
            .Uuid("id", record.Id.Value)
            .Text("dlq", target.Name)
            .Text("queue", record.Queue)
            .Text("kind", record.Kind)
            .Text("payload", payload)
            .Int("attempt", record.Attempt)
            .Int("max_attempts", record.MaxAttempts)
            .Long("enqueued_at", record.EnqueuedAt.UtcTicks)
            .Long("dead_lettered_at", now.UtcTicks)
            .Text("key", record.IdempotencyKey)
            .Text("errors", JobPayloads.SerializeErrors(record.Errors))
            .Text("trace_parent", record.TraceParent)
            .Text("trace_state", record.TraceState)
            .Int("priority", (int)record.Priority))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using (var upsert = new NpgsqlCommand(_sql.UpsertDeadLetterQueue, connection, transaction).Text("name", target.Name).Long("retention", target.Retention.Ticks).Int("capacity", target.Capacity))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var evicted = await EvictDeadLettersAsync(connection, transaction, target, cancellationToken).ConfigureAwait(false);
        return (new DeadLetterEntry(record, target.Name, now), evicted);
    }

    private async Task<List<DeadLetterEntry>> ReadDeadLettersAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        [.. (await ReadDeadLetterRowsAsync(command, cancellationToken).ConfigureAwait(false)).Select(row => row.Entry)];

    /// <summary>Reads dead-letter rows, in the columns <see cref="StoredDeadLetter.Read"/> documents.</summary>
    private async Task<List<DeadLetterRow>> ReadDeadLetterRowsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<DeadLetterRow>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(ReadDeadLetter(reader));
        }

        return rows;
    }

    private DeadLetterRow ReadDeadLetter(DbDataReader reader)
    {
        var dead = StoredDeadLetter.Read(new NpgsqlRowReader(reader));
        var row = dead.Row;
        var record = row.ToRecord(dead.Queue, _payloads.Read(row.Kind, row.Payload), storeData: null);
        return new DeadLetterRow(row, dead.Queue, new DeadLetterEntry(record, dead.DeadLetterQueue, FromTicks(dead.DeadLetteredAt)));
    }

    /// <summary>A dead-letter row as stored (for a requeue), its queue, and the entry it shows.</summary>
    private readonly record struct DeadLetterRow(StoredJobRow Row, string Queue, DeadLetterEntry Entry);
}
