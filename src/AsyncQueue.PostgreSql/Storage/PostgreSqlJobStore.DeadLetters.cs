using System.Data.Common;
using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>The dead-letter queues, in the same database: list, get, requeue, delete, purge, and bounded retention.</summary>
internal sealed partial class PostgreSqlJobStore
{
    public async ValueTask<IReadOnlyList<DeadLetterEntry>> ListAsync(string deadLetterQueue, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(take, 1);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EvictStoredTargetAsync(connection, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.ListDeadLetters, connection).Text("dlq", deadLetterQueue).Int("take", take).Int("skip", skip);
        return await ReadDeadLettersAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<long> CountAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EvictStoredTargetAsync(connection, deadLetterQueue, cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.CountDeadLetters, connection).Text("dlq", deadLetterQueue);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async ValueTask<DeadLetterEntry?> GetAsync(JobId jobId, CancellationToken cancellationToken = default)
    {
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.GetDeadLetter, connection).Uuid("id", jobId.Value);
        var entries = await ReadDeadLettersAsync(command, cancellationToken).ConfigureAwait(false);
        return entries.Count == 0 ? null : entries[0];
    }

    public async ValueTask<bool> RequeueAsync(JobId jobId, CancellationToken cancellationToken = default) =>
        await RequeueCoreAsync(_sql.TakeDeadLetter, command => command.Uuid("id", jobId.Value), cancellationToken).ConfigureAwait(false) > 0;

    public ValueTask<int> RequeueAllAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        return new(RequeueCoreAsync(_sql.TakeAllDeadLetters, command => command.Text("dlq", deadLetterQueue), cancellationToken));
    }

    public async ValueTask<bool> DeleteAsync(JobId jobId, CancellationToken cancellationToken = default)
    {
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.DeleteDeadLetterById, connection).Uuid("id", jobId.Value);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async ValueTask<int> PurgeAsync(string deadLetterQueue, CancellationToken cancellationToken = default)
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
        List<(long Seq, string? Payload, DeadLetterEntry Entry)> taken;
        using (var command = bind(new NpgsqlCommand(take, connection, transaction)))
        {
            taken = await ReadDeadLetterRowsAsync(command, cancellationToken).ConfigureAwait(false);
        }

        taken.Sort(static (a, b) => a.Seq.CompareTo(b.Seq));
        foreach (var (_, payload, entry) in taken)
        {
            var record = entry.Record;
            using var insert = new NpgsqlCommand(_sql.Requeue, connection, transaction)
                .Uuid("id", record.Id.Value)
                .Text("queue", record.Queue)
                .Text("kind", record.Kind)
                .Text("payload", payload)
                .Long("run_at", now)
                .Int("max_attempts", record.MaxAttempts)
                .Long("enqueued_at", record.EnqueuedAt.UtcTicks)
                .Text("key", record.IdempotencyKey)
                .Text("errors", JobPayloads.SerializeErrors(record.Errors))
                .Text("trace_parent", record.TraceParent)
                .Text("trace_state", record.TraceState);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (taken.Count > 0 && _options.UseListenNotify)
        {
            using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, q) FROM unnest(@queues::text[]) AS q", connection, transaction)
                .Text("channel", _channel)
                .Array("queues", NpgsqlTypes.NpgsqlDbType.Text, taken.Select(t => t.Entry.Record.Queue + "\n" + _instance).Distinct().ToArray());
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (_, _, entry) in taken)
        {
            if (_queues.TryGetValue(entry.Record.Queue, out var queue))
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
            .Text("trace_state", record.TraceState))
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

    /// <summary>
    /// Evicts a dead-letter queue's entries past its capacity (oldest first) or older than its retention, in batches of
    /// <see cref="SweepBatch"/>. Inside the caller's <paramref name="transaction"/> (a new dead letter) one batch of each;
    /// the sweeper, without one, repeats each until a batch comes back short.
    /// </summary>
    private async Task<List<(Guid Id, string Kind, string Reason)>?> EvictDeadLettersAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DeadLetterTarget target, CancellationToken cancellationToken)
    {
        List<(Guid Id, string Kind, string Reason)>? evicted = null;
        var overCapacity = $"the dead-letter queue holds more than its capacity of {target.Capacity}";
        while (await EvictBatchAsync(new NpgsqlCommand(_sql.EvictOverCapacity, connection, transaction).Text("dlq", target.Name).Int("capacity", target.Capacity), overCapacity).ConfigureAwait(false) == SweepBatch && transaction is null)
        {
        }

        var cutoff = SubtractTicks(_time.GetUtcNow().UtcTicks, target.Retention);
        var tooOld = $"older than the retention of {target.Retention}";
        while (await EvictBatchAsync(new NpgsqlCommand(_sql.EvictOlderThan, connection, transaction).Text("dlq", target.Name).Long("cutoff", cutoff), tooOld).ConfigureAwait(false) == SweepBatch && transaction is null)
        {
        }

        return evicted;

        async Task<int> EvictBatchAsync(NpgsqlCommand command, string reason)
        {
            var count = 0;
            using (command)
            using (var reader = await command.Int("limit", SweepBatch).ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    (evicted ??= []).Add((reader.GetGuid(0), reader.GetString(1), reason));
                    count++;
                }
            }

            return count;
        }
    }

    private async Task EvictStoredTargetAsync(NpgsqlConnection connection, string deadLetterQueue, CancellationToken cancellationToken)
    {
        DeadLetterTarget target;
        using (var command = new NpgsqlCommand(_sql.DeadLetterQueueTarget, connection).Text("name", deadLetterQueue))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            target = new DeadLetterTarget(deadLetterQueue, TimeSpan.FromTicks(reader.GetInt64(0)), reader.GetInt32(1));
        }

        ReportEvicted(deadLetterQueue, await EvictDeadLettersAsync(connection, null, target, cancellationToken).ConfigureAwait(false));
    }

    private void ReportEvicted(string deadLetterQueue, List<(Guid Id, string Kind, string Reason)>? evicted)
    {
        foreach (var (id, kind, reason) in evicted ?? [])
        {
            PostgreSqlLog.DeadLetterEvicted(_logger, deadLetterQueue, new JobId(id), kind, reason);
        }
    }

    private async Task<List<DeadLetterEntry>> ReadDeadLettersAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        [.. (await ReadDeadLetterRowsAsync(command, cancellationToken).ConfigureAwait(false)).Select(row => row.Entry)];

    /// <summary>Reads dead-letter rows (<c>seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state</c>).</summary>
    private async Task<List<(long Seq, string? Payload, DeadLetterEntry Entry)>> ReadDeadLetterRowsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<(long, string?, DeadLetterEntry)>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(ReadDeadLetter(reader));
        }

        return rows;
    }

    private (long Seq, string? Payload, DeadLetterEntry Entry) ReadDeadLetter(DbDataReader reader)
    {
        var row = new StoredJobRow(
            reader.GetInt64(0),
            reader.GetGuid(1),
            reader.GetString(4),
            StoredJobRow.StringOrNull(reader, 5),
            reader.GetInt32(6),
            reader.IsDBNull(7) ? null : reader.GetInt32(7),
            reader.GetInt64(8),
            reader.GetInt64(8),
            StoredJobRow.StringOrNull(reader, 10),
            StoredJobRow.StringOrNull(reader, 11),
            StoredJobRow.StringOrNull(reader, 12),
            StoredJobRow.StringOrNull(reader, 13));
        var job = _payloads.TryDeserialize(row.Kind, row.Payload, out var reason, out _) ?? new UnreadableJob(row.Kind, row.Payload, reason);
        var record = row.ToRecord(reader.GetString(3), job, storeData: null);
        return (row.Seq, row.Payload, new DeadLetterEntry(record, reader.GetString(2), FromTicks(reader.GetInt64(9))));
    }
}
