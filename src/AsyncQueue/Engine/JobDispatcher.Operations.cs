using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// Operations by job id: its status and its cancel. A job is looked for where it can be, in the order it moves
/// (store, then this process's workers, then their finished jobs), so one that moves on during a lookup is still found.
/// </summary>
internal sealed partial class JobDispatcher
{
    /// <summary>Cancels a job wherever it is: see <see cref="IJobQueue.CancelAsync"/>.</summary>
    public async ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        MissingCapabilities.ThrowIfNoCancel(_store, id);

        // An in-process continuation waiting for its parent is not in the store: it is cancelled here.
        if (_continuations.Any && await CancelAwaitingAsync(id).ConfigureAwait(false) is { } awaiting)
        {
            Log.CancelRequested(_logger, id);
            return awaiting;
        }

        // A pending cancel of this id already: an in-memory job cancelled while it waited, which a worker will drop.
        if (_cancellations.Contains(id))
        {
            return CancelJobResult.AlreadyFinished;
        }

        // First the pending cancel, then the workers (see JobCancellations): a worker about to start the job either
        // drops it or is found running it.
        _cancellations.Add(id);
        foreach (var each in _workers)
        {
            each.NeedsAttention = true;
        }

        Interlocked.MemoryBarrierProcessWide();
        CancelJobResult result;
        try
        {
            result = await CancelPendingAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Neither a leaked pending cancel (every worker would keep taking the slow path) nor a false "cancelled".
            _cancellations.TryRemove(id);
            throw;
        }

        if (result is CancelJobResult.Cancelled or CancelJobResult.CancellationRequested)
        {
            Log.CancelRequested(_logger, id);
        }

        if (result == CancelJobResult.Cancelled && !Durable)
        {
            _cancellations.RememberCancelled(id);
        }

        return result;
    }

    private async ValueTask<CancelJobResult> CancelPendingAsync(JobId id, CancellationToken cancellationToken)
    {
        while (FindWorker(id) is { } worker)
        {
            if (worker.TryCancel(id))
            {
                _cancellations.TryRemove(id);
                if (Durable)
                {
                    // Flagged in the store too: if this process dies before the handler stops, the rescue finds the
                    // cancel and ends the job cancelled instead of running it again.
                    await _store.CancelAsync(id, cancellationToken).ConfigureAwait(false);
                }

                return CancelJobResult.CancellationRequested;
            }

            // Its handler ended and the worker is settling it (one store call): once settled, the job is finished,
            // waiting for a retry, or gone from this worker, and the store or the worker's finished jobs say which.
            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }

        var result = await _store.CancelAsync(id, cancellationToken).ConfigureAwait(false);
        switch (result)
        {
            case CancelJobResult.Cancelled when !Durable:
                // The in-memory store cannot take a job out of its queue's middle: the worker that takes it drops it.
                break;
            case CancelJobResult.Cancelled or CancelJobResult.CancellationRequested:
                // A durable store changed the job's row, and its heartbeat reaches whichever process runs it.
                _cancellations.TryRemove(id);
                break;
            default:
                if (!_cancellations.TryRemove(id))
                {
                    // A worker took the job meanwhile and dropped it.
                    result = CancelJobResult.Cancelled;
                }
                else if (result == CancelJobResult.NotFound && FindFinished(id) is not null)
                {
                    result = CancelJobResult.AlreadyFinished;
                }

                break;
        }

        return result;
    }

    /// <summary>Gets a job's status wherever it is: see <see cref="Monitoring.IJobQueueMonitor.GetJobAsync"/>.</summary>
    public async ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        MissingCapabilities.ThrowIfNoJobStatus(_store, id);

        // An in-process continuation first: when its parent releases it, it moves to the store, looked at next.
        var info = FindAwaiting(id) ?? await _store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? FindRunning(id) ?? FindFinished(id);
        for (var retry = 0; info is null && !Durable && retry < 3; retry++)
        {
            // Taken from an in-memory queue but not yet published as running: a window of a few instructions.
            await Task.Yield();
            info = await _store.GetJobAsync(id, cancellationToken).ConfigureAwait(false) ?? FindRunning(id) ?? FindFinished(id);
        }

        if (info is null)
        {
            return null;
        }

        // A job cancelled before it started may still be in an in-memory queue, or in the hands of a worker about to
        // drop it: it reads as cancelled, never as waiting or running. A pending cancel alone does not make a running job
        // cancelled: the canceller may be about to cancel its token, and its handler may still succeed.
        var notStarted = info.State is JobState.Waiting or JobState.Scheduled or JobState.Retrying;
        var cancelled = (notStarted && _cancellations.Contains(id)) || ((notStarted || info.State == JobState.Running) && _cancellations.CancelledBeforeStart(id));
        return cancelled
            ? new JobInfo(info.Id, info.Queue, info.Kind, JobState.Cancelled, info.EnqueuedAt) { Attempt = info.Attempt, Priority = info.Priority, Errors = info.Errors, IdempotencyKey = info.IdempotencyKey, MaxAttempts = info.MaxAttempts }
            : info;
    }

    /// <summary>The worker whose running job, or job being settled, is <paramref name="id"/>, if one is.</summary>
    private Worker? FindWorker(JobId id)
    {
        foreach (var worker in _workers)
        {
            if (worker.Running?.Id == id)
            {
                return worker;
            }
        }

        return null;
    }

    private JobInfo? FindRunning(JobId id)
    {
        foreach (var worker in _workers)
        {
            if (worker.Running is not { } job || job.Id != id)
            {
                continue;
            }

            // Read, then check that the worker still runs this job: a reused record is refilled for the next one.
            var info = new JobInfo(id, job.Queue, job.Kind, worker.AwaitingPermit ? JobState.Waiting : JobState.Running, job.EnqueuedAt)
            {
                Attempt = job.Attempt,
                Priority = job.Priority,
                MaxAttempts = job.MaxAttempts,
                Errors = job.IsReused ? [] : [.. job.Errors],
                IdempotencyKey = job.IdempotencyKey,
                CancellationRequested = job.CancellationRequested || worker.IsCancelled(job),
            };
            if (ReferenceEquals(worker.Running, job) && job.Id == id)
            {
                return info;
            }
        }

        return null;
    }

    private JobInfo? FindFinished(JobId id)
    {
        var now = _finishedClock.UtcTicks;
        foreach (var worker in _workers)
        {
            if (worker.Finished?.Find(id, worker.Queue, now) is { } info)
            {
                return info;
            }
        }

        return null;
    }
}
