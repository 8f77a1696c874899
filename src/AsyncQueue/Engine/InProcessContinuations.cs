using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// The continuations waiting for their parent, for a store that is not durable and keeps none itself
/// (see <see cref="JobStoreCapabilities.Continuations"/>): held here, by parent, until the dispatcher settles the parent.
/// </summary>
/// <remarks>
/// Every change is under one lock, and whoever removes a continuation owns it: the enqueue that registered it (when the
/// parent turned out finished or unknown), the parent's settlement, or a cancel. So each is released or failed once.
/// No store call and no user code runs under the lock.
/// </remarks>
internal sealed class InProcessContinuations
{
    private readonly Lock _gate = new();
    private readonly Dictionary<JobId, List<JobRecord>> _byParent = [];

    // Read without the lock on every completion: the hot path pays one volatile read while no continuation waits.
    private volatile int _count;

    public bool Any => _count != 0;

    public void Add(JobRecord child)
    {
        lock (_gate)
        {
            var parent = child.ParentId!.Value;
            if (!_byParent.TryGetValue(parent, out var children))
            {
                _byParent[parent] = children = [];
            }

            children.Add(child);
            _count++;
        }
    }

    /// <summary>Removes one continuation; <see langword="false"/> when another party took it first.</summary>
    public bool TryRemove(JobRecord child)
    {
        lock (_gate)
        {
            var parent = child.ParentId!.Value;
            if (!_byParent.TryGetValue(parent, out var children) || !children.Remove(child))
            {
                return false;
            }

            if (children.Count == 0)
            {
                _byParent.Remove(parent);
            }

            _count--;
            return true;
        }
    }

    /// <summary>Removes and returns the continuations of a parent being settled, or <see langword="null"/>.</summary>
    public List<JobRecord>? TakeChildren(JobId parent)
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

            _count -= children.Count;
            return children;
        }
    }

    /// <summary>Finds a waiting continuation by its own id (a status or a cancel); a scan, as few wait at once.</summary>
    public JobRecord? Find(JobId id)
    {
        if (!Any)
        {
            return null;
        }

        lock (_gate)
        {
            foreach (var children in _byParent.Values)
            {
                foreach (var child in children)
                {
                    if (child.Id == id)
                    {
                        return child;
                    }
                }
            }
        }

        return null;
    }
}
