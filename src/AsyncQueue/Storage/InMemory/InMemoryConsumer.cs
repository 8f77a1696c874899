using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace AsyncQueue.Storage.InMemory;

/// <summary>
/// A worker's consumer of an <see cref="InMemoryQueue"/>. Takes jobs without waiting while there are any, and
/// otherwise parks on its own reusable <see cref="IValueTaskSource{TResult}"/>: no allocation and no lock.
/// </summary>
/// <remarks>
/// <para>
/// A plain job is handed to the dispatcher in this consumer's one reusable <see cref="JobRecord"/>, refilled for each
/// such job: the worker settles an attempt before it fetches again, and the store copies the record when it keeps it
/// (a retry, a dead letter). So a plain job costs no record at all.
/// </para>
/// <para>
/// The state word moves Parked to Running exactly once per park, by a compare-and-swap: whoever wins (a producer
/// waking it, a cancellation, or the consumer itself on finding a job after parking) completes the wait and
/// decrements the queue's parked count. So the wait is completed once, and the count stays exact.
/// </para>
/// </remarks>
internal sealed class InMemoryConsumer : IJobConsumer, IValueTaskSource<bool>
{
    private const int Running = 0;
    private const int Parked = 1;

    private readonly InMemoryQueue _queue;
    private readonly JobRecord _reused = new();
    private ManualResetValueTaskSourceCore<bool> _wait;
    private int _state;

    // One registration on the worker's stop token for the consumer's life, not one per park: every worker of every
    // queue shares that token, and registering takes its source's lock, so per-park registrations contended.
    private CancellationToken _registeredFor;
    private CancellationTokenRegistration _registration;

    public InMemoryConsumer(InMemoryQueue queue)
    {
        _queue = queue;

        // Never run the worker's continuation inline on the producer that woke it: the producer must return at once.
        _wait.RunContinuationsAsynchronously = true;
    }

    public ValueTask<JobRecord> FetchAsync(CancellationToken cancellationToken)
    {
        return _queue.TryTake(out var job) ? new ValueTask<JobRecord>(Start(job)) : FetchSlowAsync(cancellationToken);
    }

    /// <summary>Moves this consumer from parked to running; false when it was not parked.</summary>
    public bool TryWake() => TryUnpark(true);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<JobRecord> FetchSlowAsync(CancellationToken cancellationToken)
    {
        RegisterFor(cancellationToken);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_queue.TryTake(out var job))
            {
                return Start(job);
            }

            _wait.Reset();
            Volatile.Write(ref _state, Parked);
            _queue.OnParked();

            // Re-check after publishing that we are parked (see InMemoryQueue): a job enqueued, or a cancellation
            // requested, before the producer or the canceller could see us must not leave us parked. The parked
            // count's increment is a full fence, so this read cannot move before the state write.
            if ((_queue.HasWaitingJobs || cancellationToken.IsCancellationRequested) && TryUnpark(false))
            {
                continue;
            }

            await new ValueTask<bool>(this, _wait.Version).ConfigureAwait(false);
        }
    }

    /// <summary>Makes a cancellation of <paramref name="cancellationToken"/> unpark this consumer.</summary>
    private void RegisterFor(CancellationToken cancellationToken)
    {
        if (cancellationToken == _registeredFor)
        {
            return;
        }

        _registration.Dispose();
        _registeredFor = cancellationToken;
        _registration = cancellationToken.UnsafeRegister(static state => ((InMemoryConsumer)state!).TryUnpark(true), this);
    }

    /// <summary>The record of the job's next attempt.</summary>
    private JobRecord Start(in ReadyJob job)
    {
        if (job.Registration is { } registration)
        {
            _reused.Reuse(JobId.FromSequence(job.Sequence), registration, _queue.Name, job.Value, job.EnqueuedAtTicks);
            return _reused;
        }

        var record = (JobRecord)job.Value;
        record.Attempt++;
        return record;
    }

    private bool TryUnpark(bool completeWait)
    {
        if (Interlocked.CompareExchange(ref _state, Running, Parked) != Parked)
        {
            return false;
        }

        _queue.OnUnparked();
        if (completeWait)
        {
            _wait.SetResult(true);
        }

        return true;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _wait.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wait.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wait.OnCompleted(continuation, state, token, flags);
}
