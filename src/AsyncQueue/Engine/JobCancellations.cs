using System.Collections.Concurrent;

namespace AsyncQueue.Engine;

/// <summary>
/// The ids of jobs cancelled while a worker of this process may be about to start them: a job taken from the
/// in-memory store's queue (which cannot remove a job from its middle), or in flight between a store and a worker at
/// the moment of the cancel. A worker consumes its job's id here before it runs the job, and drops the job instead.
/// </summary>
/// <remarks>
/// The hot path reads one flag of its own worker (<see cref="Worker.NeedsAttention"/>), raised for every worker when an
/// id is added, and only then looks here. The handshake with a worker is Dekker's pattern with the fence on the
/// canceller's side only (<see cref="Interlocked.MemoryBarrierProcessWide"/>): the worker publishes its running job,
/// then reads its flag; the canceller adds the id, raises the flags, fences every thread, then looks for a worker
/// running the job. So either the worker sees the id and drops the job, or the canceller sees the worker
/// running it and cancels its token; the worker pays no fence per job.
/// </remarks>
internal sealed class JobCancellations
{
    // The last jobs a cancel took out before they started, so that a status read just after the cancel never shows
    // one as waiting or running (a queue's snapshot, or a worker about to drop it, can still hold it for a moment).
    private const int RecentCapacity = 10_000;

    private readonly ConcurrentDictionary<JobId, byte> _pending = new();
    private readonly ConcurrentDictionary<JobId, byte> _recent = new();
    private readonly ConcurrentQueue<JobId> _recentOrder = new();
    private int _count;

    /// <summary>Gets a value indicating whether any cancel waits to be consumed; a plain read, the hot path's only cost.</summary>
    public bool Any => _count != 0;

    /// <summary>Adds a job's id. The caller then flags the workers and fences every thread (see <see cref="JobDispatcher.CancelAsync"/>).</summary>
    public void Add(JobId id)
    {
        if (_pending.TryAdd(id, 0))
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Removes a job's id; <see langword="false"/> when it was not there (a worker consumed it: the job was dropped).</summary>
    public bool TryRemove(JobId id)
    {
        if (!_pending.TryRemove(id, out _))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Gets a value indicating whether a job's cancel waits, without consuming it.</summary>
    public bool Contains(JobId id) => _count != 0 && _pending.ContainsKey(id);

    /// <summary>Remembers a job that a cancel took out before it started (the last <see cref="RecentCapacity"/> of them).</summary>
    public void RememberCancelled(JobId id)
    {
        if (!_recent.TryAdd(id, 0))
        {
            return;
        }

        _recentOrder.Enqueue(id);
        while (_recentOrder.Count > RecentCapacity && _recentOrder.TryDequeue(out var oldest))
        {
            _recent.TryRemove(oldest, out _);
        }
    }

    /// <summary>Gets a value indicating whether a cancel lately took a job out before it started (see <see cref="RememberCancelled"/>).</summary>
    public bool CancelledBeforeStart(JobId id) => !_recent.IsEmpty && _recent.ContainsKey(id);
}
