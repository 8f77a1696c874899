using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Enqueue: keyed jobs inserted against the unique key index, the rest in one statement; a notification (unless polling only) wakes other processes.</summary>
internal sealed partial class PostgreSqlJobStore
{
    public async ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var results = await EnqueueCoreAsync(GetQueue(job.Queue), [job], cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return [];
        }

        var queue = GetQueue(jobs[0].Queue);
        foreach (var job in jobs)
        {
            if (job.Queue != queue.Name)
            {
                throw new ArgumentException($"Every job of a batch must name the same queue, but '{queue.Name}' and '{job.Queue}' were mixed.", nameof(jobs));
            }
        }

        return await EnqueueCoreAsync(queue, jobs, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EnqueueResult[]> EnqueueCoreAsync(PostgreSqlQueue queue, IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken)
    {
        var payloads = _payloads.SerializeAll(jobs);

        var results = new EnqueueResult[jobs.Count];
        var stored = 0;
        while (true)
        {
            stored = await EnqueueOnceAsync(queue, jobs, payloads, stored, results, cancellationToken).ConfigureAwait(false);
            queue.Wake();
            if (stored == jobs.Count)
            {
                return results;
            }

            // A bounded queue in Wait mode is full: jobs stored so far stay accepted; look again at the next poll.
            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stores jobs from <paramref name="start"/> on, in one transaction; returns how far it got (less than all only when a bounded queue in Wait mode is full).</summary>
    private async Task<int> EnqueueOnceAsync(PostgreSqlQueue queue, IReadOnlyList<JobRecord> jobs, string[] payloads, int start, EnqueueResult[] results, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (jobs.Count - start == 1 && jobs[start].IdempotencyKey is null && queue.Options.Capacity is null)
        {
            // The common case in one round trip: the insert and its notification, one batch in one implicit transaction.
            using var batch = new NpgsqlBatch(connection);
            var insert = InsertManyCommand(queue, jobs, payloads, start, start + 1, results);
            batch.BatchCommands.Add(ToBatchCommand(insert));
            if (_options.UseListenNotify)
            {
                batch.BatchCommands.Add(ToBatchCommand(new NpgsqlCommand(_sql.Notify).Text("channel", _channel).Text("payload", queue.Name + "\n" + _instance)));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return jobs.Count;
        }

        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var end = jobs.Count;
        if (queue.Options.Capacity is int capacity)
        {
            // Only jobs ready to run take room; delayed jobs take it when they fall due.
            using var count = new NpgsqlCommand(_sql.CountDue, connection, transaction).Text("queue", queue.Name).Long("now", now.UtcTicks);
            var room = capacity - (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (queue.Options.FullMode == QueueFullMode.Throw)
            {
                if (jobs.Skip(start).Count(job => !IsDelayed(job, now)) > room)
                {
                    throw new JobQueueFullException(queue.Name, capacity);
                }
            }
            else
            {
                for (var i = start; i < end; i++)
                {
                    if (!IsDelayed(jobs[i], now) && room-- <= 0)
                    {
                        end = i;
                        break;
                    }
                }
            }
        }

        var i0 = start;
        while (i0 < end)
        {
            if (jobs[i0].IdempotencyKey is not null)
            {
                results[i0] = await InsertKeyedAsync(connection, transaction, queue, jobs[i0], payloads[i0], now, cancellationToken).ConfigureAwait(false);
                i0++;
                continue;
            }

            // A run of jobs without keys goes in one statement.
            var i1 = i0;
            while (i1 < end && jobs[i1].IdempotencyKey is null)
            {
                i1++;
            }

            await InsertManyAsync(connection, transaction, queue, jobs, payloads, i0, i1, results, cancellationToken).ConfigureAwait(false);
            i0 = i1;
        }

        if (end > start && _options.UseListenNotify)
        {
            // Delivered at commit: workers of every process listening on the channel wake and lease.
            using var notify = new NpgsqlCommand(_sql.Notify, connection, transaction).Text("channel", _channel).Text("payload", queue.Name + "\n" + _instance);
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return end;
    }

    private async Task InsertManyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgreSqlQueue queue, IReadOnlyList<JobRecord> jobs, string[] payloads, int from, int to, EnqueueResult[] results, CancellationToken cancellationToken)
    {
        using var command = InsertManyCommand(queue, jobs, payloads, from, to, results);
        command.Connection = connection;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlBatchCommand ToBatchCommand(NpgsqlCommand command)
    {
        var batchCommand = new NpgsqlBatchCommand(command.CommandText);
        foreach (var parameter in command.Parameters.ToArray())
        {
            command.Parameters.Remove(parameter);
            batchCommand.Parameters.Add(parameter);
        }

        command.Dispose();
        return batchCommand;
    }

    private NpgsqlCommand InsertManyCommand(PostgreSqlQueue queue, IReadOnlyList<JobRecord> jobs, string[] payloads, int from, int to, EnqueueResult[] results)
    {
        var n = to - from;
        var ids = new Guid[n];
        var kinds = new string[n];
        var texts = new string[n];
        var runAts = new long[n];
        var attempts = new int[n];
        var maxAttempts = new int?[n];
        var enqueuedAts = new long[n];
        var errors = new string?[n];
        var traceParents = new string?[n];
        var traceStates = new string?[n];
        var priorities = new int[n];
        for (var k = 0; k < n; k++)
        {
            var job = jobs[from + k];
            ids[k] = job.Id.Value;
            kinds[k] = job.Kind;
            texts[k] = payloads[from + k];
            runAts[k] = (job.NotBefore ?? job.EnqueuedAt).UtcTicks;
            attempts[k] = job.Attempt;
            maxAttempts[k] = job.MaxAttempts;
            enqueuedAts[k] = job.EnqueuedAt.UtcTicks;
            errors[k] = JobPayloads.SerializeErrors(job.Errors);
            traceParents[k] = job.TraceParent;
            traceStates[k] = job.TraceState;
            priorities[k] = (int)job.Priority;
            results[from + k] = new EnqueueResult(job.Id, EnqueueStatus.Accepted);
        }

        return new NpgsqlCommand(_sql.InsertMany)
            .Text("queue", queue.Name)
            .Array("ids", NpgsqlDbType.Uuid, ids)
            .Array("kinds", NpgsqlDbType.Text, kinds)
            .Array("payloads", NpgsqlDbType.Text, texts)
            .Array("run_ats", NpgsqlDbType.Bigint, runAts)
            .Array("attempts", NpgsqlDbType.Integer, attempts)
            .Array("max_attempts", NpgsqlDbType.Integer, maxAttempts)
            .Array("enqueued_ats", NpgsqlDbType.Bigint, enqueuedAts)
            .Array("errors", NpgsqlDbType.Text, errors)
            .Array("trace_parents", NpgsqlDbType.Text, traceParents)
            .Array("trace_states", NpgsqlDbType.Text, traceStates)
            .Array("priorities", NpgsqlDbType.Integer, priorities);
    }

    /// <summary>
    /// Inserts a keyed job: the unique index on held keys decides, in the insert itself. When the key is held, the
    /// holder is a duplicate, unless it succeeded and its retention passed: then its key is freed (its status stays for
    /// its own retention) and the insert tried again.
    /// </summary>
    private async Task<EnqueueResult> InsertKeyedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgreSqlQueue queue, JobRecord job, string payload, DateTimeOffset now, CancellationToken cancellationToken)
    {
        while (true)
        {
            using (var insert = new NpgsqlCommand(_sql.InsertOne, connection, transaction)
                .Uuid("id", job.Id.Value)
                .Text("queue", queue.Name)
                .Text("kind", job.Kind)
                .Text("payload", payload)
                .Long("run_at", (job.NotBefore ?? job.EnqueuedAt).UtcTicks)
                .Int("attempt", job.Attempt)
                .Int("max_attempts", job.MaxAttempts)
                .Long("enqueued_at", job.EnqueuedAt.UtcTicks)
                .Text("key", job.IdempotencyKey)
                .Text("errors", JobPayloads.SerializeErrors(job.Errors))
                .Text("trace_parent", job.TraceParent)
                .Text("trace_state", job.TraceState)
                .Int("priority", (int)job.Priority))
            {
                if (await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long)
                {
                    return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
                }
            }

            long seq;
            Guid holder;
            short state;
            long? keyExpires;
            using (var find = new NpgsqlCommand(_sql.FindKeyHolder, connection, transaction).Text("key", job.IdempotencyKey))
            {
                using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The holder went between the two statements (settled or dead-lettered): try the insert again.
                    continue;
                }

                seq = reader.GetInt64(0);
                holder = reader.GetGuid(1);
                state = reader.GetInt16(2);
                keyExpires = reader.IsDBNull(3) ? null : reader.GetInt64(3);
            }

            if (state != 2 || keyExpires > now.UtcTicks)
            {
                return new EnqueueResult(new JobId(holder), EnqueueStatus.Duplicate);
            }

            using var free = new NpgsqlCommand(_sql.ReleaseExpiredKey, connection, transaction).Long("seq", seq).Long("now", now.UtcTicks);
            await free.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsDelayed(JobRecord job, DateTimeOffset now) => job.NotBefore is { } notBefore && notBefore > now;
}
