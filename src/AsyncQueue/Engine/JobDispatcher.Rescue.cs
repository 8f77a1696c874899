using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// Leases, for durable stores: no start after a lost lease, and the fate of jobs whose lease expired with their
/// process. A crash is charged only to the job that caused it, as far as the store can tell.
/// </summary>
/// <remarks>
/// <para>
/// A store does not record when a job starts (that would be a write per job), so when a process dies it cannot tell
/// which of its leased jobs were running and which were only waiting in its buffer. Charging them all an attempt let a
/// poison job take its neighbours to the dead-letter queue (with a fixed retry delay they shared one due time and were
/// leased together again). So a rescued job whose start was not recorded is not charged: it is handed back with its
/// attempt undone and becomes a suspect (<see cref="JobRecord.Isolated"/>). A store hands out an isolated job only
/// while it holds no other, and the dispatcher records its start before its handler runs; if its process dies while
/// it runs, the crash is charged to it alone, as a failed attempt the retry policy judges like any other.
/// </para>
/// <para>
/// A worker that stalled (a long GC pause, a frozen VM, SIGSTOP) may wake holding buffered jobs whose leases expired
/// and were rescued meanwhile. Before it starts one it compares the lease's expiry with the clock, with
/// <see cref="StartMargin"/> to spare, and hands back a job it may no longer hold.
/// </para>
/// </remarks>
internal sealed partial class JobDispatcher
{
    /// <summary>
    /// How much of a lease must be left to start a job. It covers the moment between the check and the handler's start,
    /// and clock skew between the processes sharing a store; a heartbeat keeps a held lease far further ahead.
    /// </summary>
    internal static readonly TimeSpan StartMargin = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether a leased job may start: its lease holds, and an isolated job's start is recorded.</summary>
    private async ValueTask<bool> TryBeginAsync(JobRecord job)
    {
        var now = _time.GetUtcNow();
        if (job.LeaseExpiresAt is { } expires && now + StartMargin >= expires)
        {
            Log.LeaseLostBeforeStart(_logger, job.Id, job.Kind, job.Queue, job.Attempt, expires);
            _metrics.LeasesLost.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue));
            await HandBackUnstartedAsync(job, now).ConfigureAwait(false);
            return false;
        }

        if (!job.Isolated)
        {
            return true;
        }

        try
        {
            if (await _store.MarkStartedAsync(job, CancellationToken.None).ConfigureAwait(false))
            {
                return true;
            }

            // Rescued elsewhere meanwhile: the store forgot it, and the job runs under its new lease.
            Log.LeaseLostBeforeStart(_logger, job.Id, job.Kind, job.Queue, job.Attempt, job.LeaseExpiresAt ?? now);
        }
#pragma warning disable CA1031 // Unrecorded, the job must not start; it goes back to the store instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Handed back rather than dropped: a job this process still holds would keep its lease alive through the
            // heartbeat, never run, and block the store's next isolated job.
            Log.StoreFailed(_logger, ex, "record the start", job.Queue);
            await HandBackUnstartedAsync(job, now).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>
    /// A job that will not start here goes back to the store, uncharged. If it was rescued meanwhile the fenced write
    /// changes nothing and the job runs under its new lease; if the store fails, it lets go of the job anyway, and the
    /// lease expires and is rescued.
    /// </summary>
    private async ValueTask HandBackUnstartedAsync(JobRecord job, DateTimeOffset now)
    {
        UndoAttempt(job);
        job.Result = null;
        try
        {
            await _store.RescheduleAsync(job, now, CancellationToken.None).ConfigureAwait(false);
        }
        catch (JobLeaseLostException)
        {
        }
#pragma warning disable CA1031 // The job stays leased and is rescued when its lease expires; the worker must survive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.StoreFailed(_logger, ex, "hand back", job.Queue);
        }
    }

    /// <summary>Takes the jobs whose lease expired, as the store finds them, and settles each.</summary>
    private async Task RescueAsync(IJobConsumer expired)
    {
        var stopping = _stopFetching.Token;
        while (!stopping.IsCancellationRequested)
        {
            JobRecord job;
            try
            {
                job = await expired.FetchAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A store outage must not end the rescue; expired leases wait in the store.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.StoreFailed(_logger, ex, "rescue", "(all)");
                await Task.Delay(TimeSpan.FromSeconds(1), _time, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            await RescueAsync(job).ConfigureAwait(false);
        }
    }

    private async ValueTask RescueAsync(JobRecord job)
    {
        var now = _time.GetUtcNow();
        _metrics.LeasesRescued.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue));
        if (job.CancellationRequested)
        {
            // Cancelled while its process died: it ends cancelled, whatever the crash.
            Log.JobCancelled(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
            _metrics.Cancelled.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
            await SettleAsync(job, "cancel", (j, ct) => _store.MarkCancelledAsync(j, ct)).ConfigureAwait(false);
            return;
        }

        if (!job.StartRecorded)
        {
            // Unknown whether it ran: not charged, but a suspect until an attempt of it ends.
            Log.RescuedUncharged(_logger, job.Id, job.Kind, job.Queue, job.Attempt);
            job.Attempt--;
            job.Isolated = true;
            await SettleAsync(job, "rescue", (j, ct) => _store.RescheduleAsync(j, now, ct)).ConfigureAwait(false);
            return;
        }

        // Its start was recorded and its process died while it ran, alone among the suspects: the crash is its failure.
        var crash = new JobLeaseExpiredException(
            $"The process running attempt {job.Attempt} crashed, was killed or stalled: its lease expired without a heartbeat while the attempt ran isolated, so the crash is charged to this job.");
        job.AddError(JobError.FromException(job.Attempt, now, crash));
        var policy = (_registry.TryGetByKind(job.Kind, out var registration) ? registration.Retry : null) ?? _queueOptions.Get(job.Queue).Retry;
        var decision = Decide(policy, job, crash, now);
        if (decision.ShouldRetry)
        {
            Log.RetryScheduled(_logger, job.Id, job.Kind, job.Queue, job.Attempt, nameof(JobLeaseExpiredException), crash.Message, decision.RunAt);
            _metrics.Retried.Add(1, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(job.Queue), JobQueueMetrics.KindTag(job.Kind));
            await SettleAsync(job, "retry", (j, ct) => _store.RescheduleAsync(j, decision.RunAt, ct)).ConfigureAwait(false);
            return;
        }

        Log.JobFailed(_logger, crash, job.Id, job.Kind, job.Queue, job.Attempt);
        await DeadLetterAsync(job).ConfigureAwait(false);
    }
}
