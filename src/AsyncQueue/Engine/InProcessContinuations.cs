using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// The continuations waiting for their parents, for a store that is not durable and keeps none itself
/// (see <see cref="JobStoreCapabilities.Continuations"/>): held here, with one link per parent still to succeed, until
/// the dispatcher settles the parents.
/// </summary>
/// <remarks>
/// Every change is under one lock, and whoever removes a link owns it: the enqueue that registered it (when the parent
/// turned out finished) or the parent's settlement. The one that removes the last link of a continuation releases it;
/// the one that takes a continuation whole (a failed or unknown parent, a cancel) fails it. So each continuation is
/// released or failed once. No store call and no user code runs under the lock.
/// </remarks>
internal sealed class InProcessContinuations
{
    private readonly Lock _gate = new();
    private readonly Dictionary<JobId, List<Waiting>> _byParent = [];
    private readonly Dictionary<JobId, Waiting> _byId = [];

    // Read without the lock on every completion: the hot path pays one volatile read while no continuation waits.
    private volatile int _count;

    public bool Any => _count != 0;

    /// <summary>Registers a continuation with a link to each of its parents.</summary>
    public void Add(JobRecord child)
    {
        var waiting = new Waiting(child);
        lock (_gate)
        {
            foreach (var parent in child.ParentIds!)
            {
                if (!_byParent.TryGetValue(parent, out var children))
                {
                    _byParent[parent] = children = [];
                }

                children.Add(waiting);
            }

            _byId.Add(child.Id, waiting);
            _count = _byId.Count;
        }
    }

    /// <summary>Removes a continuation with all its links; <see langword="false"/> when another party took it first.</summary>
    public bool TryTake(JobRecord child)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(child.Id, out var waiting) && waiting.Child == child && TakeLocked(waiting);
        }
    }

    /// <summary>
    /// Removes a continuation whole while its link to <paramref name="parent"/> is still there: <see langword="false"/>
    /// when another party took it, or when that parent's settlement took the link (so the parent was known).
    /// </summary>
    public bool TryTakeIfLinked(JobId parent, JobRecord child)
    {
        lock (_gate)
        {
            return _byParent.TryGetValue(parent, out var children) && children.Find(w => w.Child == child) is { } waiting && TakeLocked(waiting);
        }
    }

    /// <summary>
    /// One parent of a registering continuation succeeded already: removes its link, and <see langword="true"/> when that
    /// was the last one, so the caller releases the continuation.
    /// </summary>
    public bool ParentSucceeded(JobId parent, JobRecord child)
    {
        lock (_gate)
        {
            if (!_byParent.TryGetValue(parent, out var children) || children.Find(w => w.Child == child) is not { } waiting)
            {
                return false;
            }

            Unlink(parent, children, waiting);
            return --waiting.Pending == 0 && TakeLocked(waiting);
        }
    }

    /// <summary>A parent succeeded: removes its links and returns the continuations it was the last parent of, or <see langword="null"/>.</summary>
    public List<JobRecord>? TakeReleased(JobId parent)
    {
        if (!Any)
        {
            return null;
        }

        lock (_gate)
        {
            if (!_byParent.Remove(parent, out var children))
            {
                return null;
            }

            List<JobRecord>? released = null;
            foreach (var waiting in children)
            {
                if (--waiting.Pending == 0 && TakeLocked(waiting))
                {
                    (released ??= []).Add(waiting.Child);
                }
            }

            return released;
        }
    }

    /// <summary>A parent was dead-lettered or cancelled: removes and returns every continuation that waits for it, or <see langword="null"/>.</summary>
    public List<JobRecord>? TakeFailed(JobId parent)
    {
        if (!Any)
        {
            return null;
        }

        lock (_gate)
        {
            if (!_byParent.TryGetValue(parent, out var children))
            {
                return null;
            }

            var failed = new List<JobRecord>(children.Count);
            foreach (var waiting in children.ToArray())
            {
                if (TakeLocked(waiting))
                {
                    failed.Add(waiting.Child);
                }
            }

            return failed;
        }
    }

    /// <summary>Finds a waiting continuation by its own id (a status or a cancel).</summary>
    public JobRecord? Find(JobId id)
    {
        if (!Any)
        {
            return null;
        }

        lock (_gate)
        {
            return _byId.TryGetValue(id, out var waiting) ? waiting.Child : null;
        }
    }

    private bool TakeLocked(Waiting waiting)
    {
        if (!_byId.Remove(waiting.Child.Id))
        {
            return false;
        }

        foreach (var parent in waiting.Child.ParentIds!)
        {
            if (_byParent.TryGetValue(parent, out var children))
            {
                Unlink(parent, children, waiting);
            }
        }

        _count = _byId.Count;
        return true;
    }

    private void Unlink(JobId parent, List<Waiting> children, Waiting waiting)
    {
        children.Remove(waiting);
        if (children.Count == 0)
        {
            _byParent.Remove(parent);
        }
    }

    /// <summary>A continuation and how many of its parents have yet to succeed.</summary>
    private sealed class Waiting(JobRecord child)
    {
        public JobRecord Child { get; } = child;

        public int Pending { get; set; } = child.ParentIds!.Count;
    }
}
