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
    private readonly ConcurrentDictionary<JobId, byte> _pending = new();
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
}
