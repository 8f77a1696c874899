using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Operations on jobs and queues by name, over every process's jobs: a job's status, cancel by id, pause and resume.</summary>
internal sealed partial class PostgreSqlJobStore
{
    public async ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using (var command = new NpgsqlCommand(_sql.Status, connection).Uuid("id", id.Value))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return StoredJobStatus.Read(new NpgsqlRowReader(reader)).ToInfo(now);
            }
        }

        using (var command = new NpgsqlCommand(_sql.GetDeadLetter, connection).Uuid("id", id.Value))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? StoredJobStatus.FromDeadLetter(StoredDeadLetter.Read(new NpgsqlRowReader(reader)))
                : null;
        }
    }

    /// <summary>
    /// Cancels by id in one transaction, with the row locked: a waiting row becomes cancelled (its key freed), a leased
    /// one is flagged for its holder, which a notification tells at once (else its next heartbeat).
    /// </summary>
    public async ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        (long Seq, int State, string Queue)? found = null;
        using (var find = new NpgsqlCommand(_sql.FindById, connection, transaction).Uuid("id", id.Value))
        using (var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found = (reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2));
            }
        }

        if (found is not { } row)
        {
            using var dead = new NpgsqlCommand(_sql.HasDeadLetter, connection, transaction).Uuid("id", id.Value);
            return await dead.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true ? CancelJobResult.AlreadyFinished : CancelJobResult.NotFound;
        }

        var (seq, state, queue) = row;

        CancelJobResult result;
        List<string>? failed = null;
        switch (state)
        {
            case StoredJobStatus.Waiting or StoredJobStatus.AwaitingParent:
                // A queue that keeps no status (as this process configures it) keeps no cancelled row either.
                var now = _time.GetUtcNow().UtcTicks;
                using (var cancel = _queues.TryGetValue(queue, out var configured) && !StoredJobStatus.KeepsStatus(configured.Options)
                    ? new NpgsqlCommand(_sql.DeleteJob, connection, transaction).Long("seq", seq)
                    : new NpgsqlCommand(_sql.CancelWaiting, connection, transaction).Long("now", now).Long("seq", seq))
                {
                    await cancel.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                // Its own continuations fail with it, in this transaction.
                failed = await SettleChildrenAsync(connection, transaction, id, succeeded: false, now, cancellationToken).ConfigureAwait(false);
                result = CancelJobResult.Cancelled;
                break;
            case StoredJobStatus.Leased:
                using (var request = new NpgsqlCommand(_sql.RequestCancel, connection, transaction).Long("seq", seq))
                {
                    await request.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                if (_options.UseListenNotify)
                {
                    // Delivered at commit, to every listening process; the one holding the row tells its record.
                    using var notify = new NpgsqlCommand(_sql.Notify, connection, transaction).Text("channel", _channel).Text("payload", CancelPayload(seq));
                    await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                result = CancelJobResult.CancellationRequested;
                break;
            default:
                return CancelJobResult.AlreadyFinished;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (failed is not null)
        {
            WakeLocal(failed);
        }

        if (result == CancelJobResult.CancellationRequested && _held.TryGetValue(seq, out var held))
        {
            // Held here: no need to wait for the notification's round trip or the heartbeat.
            CancellationRequests.Deliver(held);
        }

        return result;
    }

    /// <summary>
    /// Stores the queue's state; every process's fetch reads it (<see cref="PostgreSqlStatements.Lease"/>). A pause hands
    /// back what this process leased ahead for the queue (other processes hand theirs back at their next fetch); a
    /// resume wakes this process's fetch loop and, through a notification, every other process's.
    /// </summary>
    public async ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        var state = GetQueue(queue);
        using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        using (var batch = new NpgsqlBatch(connection))
        {
            // One round trip, one implicit transaction: the state and the notification commit together.
            batch.BatchCommands.Add(ToBatchCommand(new NpgsqlCommand(_sql.SetPaused).Text("queue", state.Name).Bool("paused", paused)));
            if (!paused && _options.UseListenNotify)
            {
                batch.BatchCommands.Add(ToBatchCommand(new NpgsqlCommand(_sql.Notify).Text("channel", _channel).Text("payload", state.Name + "\n" + _instance)));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (paused)
        {
            await HandBackUntakenAsync(state, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            state.Wake();
        }
    }
}
