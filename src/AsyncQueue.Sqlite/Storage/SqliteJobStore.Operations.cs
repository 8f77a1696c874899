using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>Operations on jobs and queues by name: a job's status, cancel by id, pause and resume.</summary>
internal sealed partial class SqliteJobStore
{
    /// <summary>Reads a job's row, or its dead letter, on the reader connection: a status never waits behind the writer's transaction.</summary>
    public ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow().UtcTicks;
        lock (_readerGate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            using (var reader = _status.Query(id.Value))
            {
                if (reader.Read())
                {
                    return new(StoredJobStatus.Read(reader).ToInfo(now));
                }
            }

            using (var reader = _deadLetterStatus.Query(id.Value))
            {
                return new(reader.Read() ? StoredJobStatus.FromDeadLetter(StoredDeadLetter.Read(reader)) : null);
            }
        }
    }

    /// <summary>
    /// Cancels by id in one write transaction: a waiting row becomes cancelled (its key freed), a leased one is flagged
    /// for its holder's heartbeat (and told at once when this process holds it).
    /// </summary>
    public ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken) =>
        RunAsync("cancel", cycle =>
        {
            long seq;
            long state;
            string queue;
            using (var reader = _sql.FindById.Query(id.Value))
            {
                if (!reader.Read())
                {
                    return _sql.HasDeadLetter.ScalarInt64(id.Value) != 0 ? CancelJobResult.AlreadyFinished : CancelJobResult.NotFound;
                }

                seq = reader.GetInt64(0);
                state = reader.GetInt64(1);
                queue = reader.GetString(2);
            }

            switch (state)
            {
                case StoredJobStatus.Waiting or StoredJobStatus.AwaitingParent:
                    // Its own continuations fail with it, in this transaction.
                    _sql.FailChildren.Execute(id.Value, cycle.NowTicks);
                    // A queue that keeps no status (as this process configures it) keeps no cancelled row either.
                    if (_queues.TryGetValue(queue, out var configured) && !StoredJobStatus.KeepsStatus(configured.Options))
                    {
                        _sql.DeleteJob.Execute(seq);
                    }
                    else
                    {
                        _sql.CancelWaiting.Execute(cycle.NowTicks, seq);
                    }

                    return CancelJobResult.Cancelled;
                case StoredJobStatus.Leased:
                    _sql.RequestCancel.Execute(seq);
                    cycle.AfterCommit(() =>
                    {
                        // Held here: no need to wait for the heartbeat. Held elsewhere: its heartbeat tells it.
                        if (_held.TryGetValue(seq, out var held))
                        {
                            CancellationRequests.Deliver(held);
                        }
                    });
                    return CancelJobResult.CancellationRequested;
                default:
                    return CancelJobResult.AlreadyFinished;
            }
        });

    /// <summary>
    /// Stores the queue's state; every process's lease step reads it (<see cref="SqliteStatements.Lease"/>). A pause hands
    /// back the jobs this process leased for its workers and they have not taken yet (no attempt spent); a resume wakes
    /// this process's idle workers at once, and other processes' at their next poll.
    /// </summary>
    public ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        var state = GetQueue(queue);
        return new(RunAsync(paused ? "pause" : "resume", cycle =>
        {
            _sql.SetPaused.Execute(state.Name, paused ? 1 : 0);
            cycle.AfterCommit(() =>
            {
                if (paused)
                {
                    HandBackUntaken(state);
                }
                else
                {
                    RequestWake();
                }
            });
            return true;
        }).AsTask());
    }

    /// <summary>
    /// On the writer loop, after a pause committed: takes the queue's leased and untaken jobs out of its channel and
    /// queues their release, so none starts while the queue is paused. A worker that took one a moment before runs it,
    /// as a job leased before the pause.
    /// </summary>
    private void HandBackUntaken(SqliteQueue queue)
    {
        while (queue.Ready.Reader.TryRead(out var job))
        {
            // Taken from the channel as a consumer would, so the untaken count stays right.
            queue.Taken();
            Post(new SettleOp(this, SettleKind.Release, job, (SqliteLease)job.StoreData!));
        }
    }
}
