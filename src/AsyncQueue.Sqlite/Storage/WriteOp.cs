namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// One request to the writer loop. The loop runs many in one transaction (group commit): each <see cref="Execute"/>s
/// inside it, and only after the commit are their results published. If the transaction fails, each request is run
/// again alone, so one bad request fails only its own caller.
/// </summary>
internal abstract class WriteOp
{
    public abstract string Name { get; }

    /// <summary>Runs inside the transaction. Throwing rolls the transaction back.</summary>
    public abstract void Execute(WriteCycle cycle);

    /// <summary>Publishes the result after the commit.</summary>
    public abstract void Commit();

    /// <summary>Fails the request: it was not stored.</summary>
    public abstract void Fail(Exception exception);
}

/// <summary>A request with a result that its caller awaits.</summary>
internal abstract class WriteOp<T> : WriteOp
{
    // Callers resume on the thread pool, never inline on the writer loop.
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T _result = default!;
    private Exception? _refusal;

    public Task<T> Task => _done.Task;

    public override void Commit()
    {
        if (_refusal is not null)
        {
            _done.TrySetException(_refusal);
        }
        else
        {
            _done.TrySetResult(_result);
        }
    }

    public override void Fail(Exception exception) => _done.TrySetException(exception);

    /// <summary>Sets the result published at commit.</summary>
    protected void SetResult(T result)
    {
        _refusal = null;
        _result = result;
    }

    /// <summary>Refuses the request with an exception published at commit: the request wrote nothing, the others commit.</summary>
    protected void Refuse(Exception refusal) => _refusal = refusal;
}

/// <summary>A request that runs a function in the transaction (the dead-letter queue's operations).</summary>
internal sealed class FuncOp<T>(string name, Func<WriteCycle, T> body) : WriteOp<T>
{
    public override string Name => name;

    public override void Execute(WriteCycle cycle) => SetResult(body(cycle));
}

/// <summary>
/// A coalesced signal (wake the lease step, heartbeat, sweep): at most one of each is queued at a time. Its flag is
/// cleared when the loop takes it, before the loop reads the state it reacts to, so a later request is never lost.
/// </summary>
internal sealed class SignalOp(string name, Action<WriteCycle> body) : WriteOp
{
    private int _pending;

    public override string Name => name;

    /// <summary>Returns <see langword="true"/> when the caller must queue the signal (none was pending).</summary>
    public bool TrySetPending() => Interlocked.Exchange(ref _pending, 1) == 0;

    public void ClearPending() => Interlocked.Exchange(ref _pending, 0);

    public override void Execute(WriteCycle cycle) => body(cycle);

    public override void Commit()
    {
    }

    public override void Fail(Exception exception)
    {
    }
}
