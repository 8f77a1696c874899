using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// Continuations (<see cref="JobStoreCapabilities.Continuations"/>), kept in the database (see
/// <see cref="PostgreSqlStatements.MarkPendingParents"/>): a continuation is stored with its links in one transaction,
/// and each parent's settlement counts its children down or fails them in the transaction that records it.
/// </summary>
internal sealed partial class PostgreSqlJobStore
{
    /// <summary>How many times a registration looks again at a parent that a dead letter's requeue brought back meanwhile.</summary>
    private const int ParentLookAttempts = 3;

    public async ValueTask<EnqueueResult> EnqueueContinuationAsync(JobRecord job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.ParentIds is not { } parentIds || job.IdempotencyKey is not null)
        {
            throw new ArgumentException("A continuation has ParentIds and no IdempotencyKey.", nameof(job));
        }

        var queue = GetQueue(job.Queue);
        var payload = _payloads.SerializeAll([job])[0];
        var parents = parentIds.Select(id => id.Value).ToArray();
        var now = _time.GetUtcNow().UtcTicks;
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        var pending = new List<Guid>(parents.Length);
        var failed = false;
        var unsettled = parents;
        for (var attempt = 1; unsettled.Length > 0; attempt++)
        {
            using (var mark = new NpgsqlCommand(_sql.MarkPendingParents, connection, transaction).Array("parents", NpgsqlDbType.Uuid, unsettled))
            using (var reader = await mark.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    pending.Add(reader.GetGuid(0));
                }
            }

            var rest = unsettled.Except(pending).ToArray();
            var again = new List<Guid>();
            using (var states = new NpgsqlCommand(_sql.ParentStates, connection, transaction).Array("parents", NpgsqlDbType.Uuid, rest))
            using (var reader = await states.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var id = reader.GetGuid(0);
                    switch (reader.IsDBNull(1) ? (int?)null : reader.GetInt32(1))
                    {
                        case StoredJobStatus.Succeeded:
                            break;
                        case StoredJobStatus.Cancelled:
                            failed = true;
                            break;
                        case null when reader.GetBoolean(2):
                            failed = true;
                            break;
                        case null:
                            throw new ParentJobNotFoundException(new JobId(id));
                        default:
                            // Not finished, yet not marked: a requeued dead letter's new row, inserted after the mark.
                            again.Add(id);
                            break;
                    }
                }
            }

            if (again.Count > 0 && attempt == ParentLookAttempts)
            {
                throw new InvalidOperationException($"The parent job {again[0]} of continuation {job.Id} kept changing while it was registered; enqueue the continuation again.");
            }

            unsettled = [.. again];
        }

        var awaiting = !failed && pending.Count > 0;
        using (var insert = new NpgsqlCommand(_sql.InsertContinuation, connection, transaction)
            .Uuid("id", job.Id.Value)
            .Text("queue", queue.Name)
            .Text("kind", job.Kind)
            .Text("payload", payload)
            .Int("state", awaiting ? StoredJobStatus.AwaitingParent : StoredJobStatus.Waiting)
            .Long("run_at", failed ? now : (job.NotBefore ?? job.EnqueuedAt).UtcTicks)
            .Int("attempt", job.Attempt)
            .Int("max_attempts", job.MaxAttempts)
            .Long("enqueued_at", job.EnqueuedAt.UtcTicks)
            .Text("errors", JobPayloads.SerializeErrors(job.Errors))
            .Text("trace_parent", job.TraceParent)
            .Text("trace_state", job.TraceState)
            .Int("priority", (int)job.Priority)
            .Array("parent_ids", NpgsqlDbType.Uuid, parents)
            .Int("pending", awaiting ? pending.Count : 0)
            .Int("on_parent_failure", (int)job.OnParentFailure)
            .Bool("parent_failed", failed))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (awaiting)
        {
            using var links = new NpgsqlCommand(_sql.InsertLinks, connection, transaction).Array("parents", NpgsqlDbType.Uuid, pending.ToArray()).Uuid("child", job.Id.Value);
            await links.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await NotifyAsync(connection, transaction, [queue.Name], cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (!awaiting)
        {
            queue.Wake();
        }

        return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
    }

    /// <summary>
    /// Completes a job the batch statements left alone: one with continuations (or one whose lease was lost, which this
    /// finds too). In one transaction the row is settled, fenced by its lease, and its children are counted down.
    /// </summary>
    /// <returns>Whether the completion was stored; <see langword="false"/> when the lease was lost.</returns>
    private async Task<bool> CompleteParentAsync(PendingCompletion pending)
    {
        List<string> released;
        using (var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false))
        using (var transaction = await connection.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false))
        {
            using (var complete = pending.Keep
                ? new NpgsqlCommand(_sql.CompleteParentKeep, connection, transaction)
                    .Long("finished_at", pending.FinishedAt)
                    .Text("result", pending.Result)
                    .Long("key_expires", pending.KeyExpires)
                    .Long("seq", pending.Lease.Seq)
                    .Long("token", pending.Lease.Token)
                : new NpgsqlCommand(_sql.CompleteParentDelete, connection, transaction).Long("seq", pending.Lease.Seq).Long("token", pending.Lease.Token))
            {
                if (await complete.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false) != 1)
                {
                    return false;
                }
            }

            released = await SettleChildrenAsync(connection, transaction, pending.Job.Id, succeeded: true, pending.FinishedAt, CancellationToken.None).ConfigureAwait(false);
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        WakeLocal(released);
        return true;
    }

    /// <summary>
    /// In the caller's transaction that settles <paramref name="parent"/>: its continuations count one parent fewer
    /// (<paramref name="succeeded"/>) or are failed; a notification for each queue with a job now due is sent at commit.
    /// </summary>
    /// <returns>The queues with a job now due, to wake in this process after the commit.</returns>
    private async Task<List<string>> SettleChildrenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobId parent, bool succeeded, long now, CancellationToken cancellationToken)
    {
        var due = new List<string>();
        using (var command = new NpgsqlCommand(succeeded ? _sql.ReleaseChildren : _sql.FailChildren, connection, transaction).Uuid("parent", parent.Value).Long("now", now))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var queue = reader.GetString(0);
                if (reader.GetInt32(1) == StoredJobStatus.Waiting && !due.Contains(queue))
                {
                    due.Add(queue);
                }
            }
        }

        await NotifyAsync(connection, transaction, due, cancellationToken).ConfigureAwait(false);
        return due;
    }

    /// <summary>Tells every listening process, at commit, that the queues have jobs due.</summary>
    private async Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<string> queues, CancellationToken cancellationToken)
    {
        if (!_options.UseListenNotify)
        {
            return;
        }

        foreach (var queue in queues)
        {
            using var notify = new NpgsqlCommand(_sql.Notify, connection, transaction).Text("channel", _channel).Text("payload", queue + "\n" + _instance);
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Wakes this process's fetch loops of the queues (its own notifications are ignored); a queue it does not run is another process's.</summary>
    private void WakeLocal(List<string> queues)
    {
        foreach (var name in queues)
        {
            if (_queues.TryGetValue(name, out var queue))
            {
                queue.Wake();
            }
        }
    }
}
