using AsyncQueue.Recurring.Diagnostics;

namespace AsyncQueue.Recurring.Scheduling;

/// <summary>The scheduler's pass over one recurring job: which ticks are due, on time or missed, and their enqueues.</summary>
internal sealed partial class RecurringScheduler
{
    /// <summary>Enqueues the entry's due ticks; returns when it next needs the loop, or <see langword="null"/> for never.</summary>
    private async Task<DateTimeOffset?> FireDueAsync(Entry entry, DateTimeOffset now, CancellationToken stopping)
    {
        var job = entry.Job;
        DateTimeOffset cursor;
        lock (_gate)
        {
            if (entry.Removed || entry.Paused)
            {
                // Ticks while paused are skipped, never caught up on resume.
                entry.Cursor = now;
                entry.NextRun = null;
                return null;
            }

            if (now < entry.RetryAt)
            {
                return entry.RetryAt;
            }

            cursor = entry.Cursor;
        }

        // Ticks later than the threshold (up to lateUpTo) were missed: this process was down or stalled. The rest are on
        // time; a tick exactly the threshold late still is, so a zero threshold takes a tick handled at its very time.
        var lateUpTo = now - job.MisfireThreshold - TimeSpan.FromTicks(1);
        var onTimeAfter = lateUpTo > cursor ? lateUpTo : cursor;
        var ticks = new List<DateTimeOffset>();
        if (onTimeAfter > cursor && CronTicks.Latest(job, cursor, lateUpTo) is { } missed)
        {
            if (job.Misfire == RecurringMisfirePolicy.FireOnceNow)
            {
                RecurringLog.MissedFiredOnce(_logger, job.Name, missed);
                ticks.Add(missed);
            }
            else
            {
                RecurringLog.MissedSkipped(_logger, job.Name, missed);
            }
        }

        ticks.AddRange(CronTicks.Between(job, onTimeAfter, now));
        foreach (var tick in ticks)
        {
            try
            {
                var result = await job.EnqueueTickAsync(_queue, tick, stopping).ConfigureAwait(false);
                if (result.Accepted)
                {
                    RecurringLog.TickEnqueued(_logger, job.Name, tick, result.JobId);
                }
                else
                {
                    RecurringLog.TickDuplicate(_logger, job.Name, tick, result.JobId);
                }

                lock (_gate)
                {
                    entry.Cursor = tick;
                    entry.LastRun = tick;
                }
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // The cursor stays before the failed tick, so it is offered again: on time, or as a missed tick.
                RecurringLog.EnqueueFailed(_logger, e, job.Name, tick, RetryDelay);
                lock (_gate)
                {
                    entry.RetryAt = now + RetryDelay;
                }

                return now + RetryDelay;
            }
        }

        var next = CronTicks.Next(job, now);
        lock (_gate)
        {
            entry.Cursor = now;
            entry.NextRun = entry.Paused || entry.Removed ? null : next;
        }

        return next;
    }
}
