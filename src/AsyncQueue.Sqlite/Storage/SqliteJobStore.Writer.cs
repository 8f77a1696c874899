using System.Diagnostics.CodeAnalysis;
using AsyncQueue.Sqlite.Diagnostics;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>The writer loop: group commit of every queued request, then the lease step, in one transaction.</summary>
internal sealed partial class SqliteJobStore
{
    // Enough to amortize a commit over many requests, few enough that one transaction stays short.
    private const int MaxOperationsPerTransaction = 1_024;

    private async Task RunWriterAsync()
    {
        var reader = _ops.Reader;
        var batch = new List<WriteOp>(MaxOperationsPerTransaction);

        // The channel never runs this continuation inline on a producer: the loop always resumes on the thread pool.
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxOperationsPerTransaction && reader.TryRead(out var op))
            {
                // Cleared before the batch reads the state the signal reacts to, so a signal raised from now on is queued again.
                (op as SignalOp)?.ClearPending();
                batch.Add(op);
            }

            try
            {
                RunBatch(batch);
            }
#pragma warning disable CA1031 // The loop must outlive any failure: a dead loop would strand every caller.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                SqliteLog.OperationFailed(_logger, ex, "writer loop");
                foreach (var op in batch)
                {
                    op.Fail(ex);
                }
            }
        }
    }

    private void RunBatch(List<WriteOp> batch)
    {
        var cycle = new WriteCycle(_time.GetUtcNow(), _queueList.Length);

        // A bare wake (a poll, or a worker that found nothing) needs no write lock unless a job is due for a waiting worker.
        if (batch.Count == 1 && batch[0] == _wake && !HasDueJobForWaitingWorker(cycle))
        {
            ArmWake(cycle);
            return;
        }

        if (TryRun(batch, cycle, lease: true, out var failure))
        {
            return;
        }

        // Isolate the failure: every request runs again alone, so only a bad one fails, and the lease step runs on its own.
        SqliteLog.BatchFailed(_logger, failure, batch.Count);
        foreach (var op in batch)
        {
            if (!TryRun([op], new WriteCycle(_time.GetUtcNow(), _queueList.Length), lease: false, out var error))
            {
                SqliteLog.OperationFailed(_logger, error, op.Name);
                op.Fail(error);
            }
        }

        if (!TryRun([], new WriteCycle(_time.GetUtcNow(), _queueList.Length), lease: true, out var leaseFailure))
        {
            SqliteLog.OperationFailed(_logger, leaseFailure, "lease");

            // Waiting workers must not wait for ever on a store that failed once: try again after a poll interval.
            _wakeTimer.Change(_options.PollInterval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Runs requests (and, if asked, the lease step) in one transaction; publishes their results once it commits.</summary>
    private bool TryRun(List<WriteOp> batch, WriteCycle cycle, bool lease, [NotNullWhen(false)] out Exception? failure)
    {
        try
        {
            _sql.Begin.Execute();
            try
            {
                foreach (var op in batch)
                {
                    op.Execute(cycle);
                }

                if (lease)
                {
                    LeaseForDemand(cycle);
                }

                _sql.Commit.Execute();
            }
            catch
            {
                TryRollback();
                throw;
            }
        }
#pragma warning disable CA1031 // A failed transaction fails its callers (after a retry one by one); it never kills the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = ex;
            return false;
        }

        failure = null;
        CountCommit();
        cycle.Publish();
        foreach (var op in batch)
        {
            op.Commit();
        }

        ArmWake(cycle);
        return true;
    }

    private void TryRollback()
    {
        try
        {
            _sql.Rollback.Execute();
        }
#pragma warning disable CA1031 // SQLite may have rolled back already (for example on a full disk); the original error is what matters.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private bool HasDueJobForWaitingWorker(WriteCycle cycle)
    {
        if (_closing)
        {
            return false;
        }

        foreach (var queue in _queueList)
        {
            if (queue.Waiting > queue.Untaken && RateLimitedUntil(queue, cycle) is null && _sql.HasDue.ScalarInt64(queue.Name, cycle.NowTicks, _isolatedHeld is null ? 1 : 0) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Sets the wake timer while workers wait with nothing to take: to the next delayed job's time, or a poll interval
    /// from now for jobs that other processes enqueue, whichever comes first.
    /// </summary>
    private void ArmWake(WriteCycle cycle)
    {
        if (_closing)
        {
            return;
        }

        var wakeAt = AddTicks(cycle.NowTicks, _options.PollInterval);
        var idle = false;
        foreach (var queue in _queueList)
        {
            if (queue.Waiting > queue.Untaken)
            {
                idle = true;
                if (_sql.NextDue.Scalar(queue.Name, _isolatedHeld is null ? 1 : 0) is long due)
                {
                    // A queue whose rate-limit window is used up has nothing due before the next window.
                    due = Math.Max(due, RateLimitedUntil(queue, cycle) ?? due);
                    wakeAt = Math.Min(wakeAt, due);
                }
            }
        }

        if (idle)
        {
            var delay = TimeSpan.FromTicks(Math.Max(0, wakeAt - _time.GetUtcNow().UtcTicks));
            _wakeTimer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }
}
