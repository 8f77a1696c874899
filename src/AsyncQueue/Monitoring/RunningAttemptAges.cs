using System.Diagnostics.Metrics;
using AsyncQueue.Diagnostics;
using AsyncQueue.Engine;

namespace AsyncQueue.Monitoring;

/// <summary>
/// The <c>asyncqueue.job.longest_running</c> gauge: per queue, how long the oldest attempt its workers run has been
/// running, the signal of a stuck worker (a handler that never returns, with or without a timeout).
/// </summary>
/// <remarks>
/// Sampled at each metrics collection, never timed on the hot path: an attempt is first seen running at one collection
/// and its age counts from then, so the gauge runs behind by at most one collection interval. A worker's record can
/// be reused for its next job while it is read (see <see cref="Worker.Running"/>); a torn read of its id and attempt
/// looks like a new attempt and restarts the age, so the gauge can read low for one collection, never high.
/// </remarks>
internal sealed class RunningAttemptAges(JobDispatcher dispatcher, IReadOnlyList<QueueInfo> queues, TimeProvider time)
{
    private readonly Lock _gate = new();
    private Seen[] _seen = [];

    public IEnumerable<Measurement<double>> Observe()
    {
        var workers = dispatcher.Workers;
        var now = time.GetTimestamp();
        var oldest = new Dictionary<string, double>(queues.Count, StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            oldest[queue.Name] = 0;
        }

        // Collections may overlap (two readers of the meter): one at a time updates what was seen.
        lock (_gate)
        {
            if (_seen.Length != workers.Count)
            {
                _seen = new Seen[workers.Count];
            }

            for (var i = 0; i < workers.Count; i++)
            {
                var worker = workers[i];
                if (worker.Running is not { } job)
                {
                    _seen[i] = default;
                    continue;
                }

                var id = job.Id;
                var attempt = job.Attempt;
                if (_seen[i].Id != id || _seen[i].Attempt != attempt || !_seen[i].Valid)
                {
                    _seen[i] = new Seen(id, attempt, now, Valid: true);
                }

                var age = time.GetElapsedTime(_seen[i].Since, now).TotalSeconds;
                if (oldest.TryGetValue(worker.Queue, out var current) && age > current)
                {
                    oldest[worker.Queue] = age;
                }
            }
        }

        return oldest.Select(pair => new Measurement<double>(pair.Value, JobQueueMetrics.SystemTag, JobQueueMetrics.QueueTag(pair.Key)));
    }

    private readonly record struct Seen(JobId Id, int Attempt, long Since, bool Valid);
}
