using System.Runtime.CompilerServices;
using AsyncQueue.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// Continuations (<see cref="IJobQueue.ContinueWithAsync"/>). A store with <see cref="JobStoreCapabilities.Continuations"/>
/// keeps them and releases them in the transaction that settles their parent; the dispatcher only applies the policy to
/// one released by a failed parent (<see cref="JobRecord.ParentFailed"/>). For the in-memory store the dispatcher holds
/// them itself (<see cref="InProcessContinuations"/>) and releases them when it settles their parent.
/// </summary>
internal sealed partial class JobDispatcher
{
    private readonly InProcessContinuations _continuations = new();

    /// <summary>Accepts a continuation: see <see cref="IJobQueue.ContinueWithAsync"/>.</summary>
    public async ValueTask<EnqueueResult> ContinueWithAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if ((_store.Capabilities & JobStoreCapabilities.Continuations) != 0)
        {
            return await _store.EnqueueContinuationAsync(job, cancellationToken).ConfigureAwait(false);
        }

        if (Durable)
        {
            // In-process continuations would be lost with this process while the durable parent survives it.
            throw new NotSupportedException($"This durable job store ({_store.GetType().Name}) does not keep continuations (JobStoreCapabilities.Continuations), and holding them in this process would lose them in a crash.");
        }

        // Registered before the parent is looked up: a parent settled meanwhile finds it and releases it, and then the
        // TryRemove below fails, so exactly one side acts (the lost-wake-up pattern of InMemoryQueue).
        var parentId = job.ParentId!.Value;
        _continuations.Add(job);
        JobInfo? parent;
        try
        {
            parent = await GetJobAsync(parentId, cancellationToken).ConfigureAwait(false);

            // A job taken from an in-memory queue is found nowhere until its worker publishes it as running (a few
            // instructions, unless that thread is preempted): look a few more times before calling the parent unknown.
            for (var retry = 0; parent is null && retry < 10; retry++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
                parent = await GetJobAsync(parentId, cancellationToken).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Only when its parent released it meanwhile: then it was accepted, and the failed look-up does not matter.
        catch (Exception) when (!_continuations.TryRemove(job))
#pragma warning restore CA1031
        {
            return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
        }

        switch (parent?.State)
        {
            case null when _continuations.TryRemove(job):
                throw new ParentJobNotFoundException(parentId);
            case JobState.Succeeded when _continuations.TryRemove(job):
                await ReleaseAsync(job).ConfigureAwait(false);
                break;
            case JobState.DeadLettered or JobState.Cancelled when _continuations.TryRemove(job):
                await FailContinuationAsync(job).ConfigureAwait(false);
                break;
        }

        return new EnqueueResult(job.Id, EnqueueStatus.Accepted);
    }

    /// <summary>The parent succeeded: its in-process continuations go to the store, due at once (or at their own time).</summary>
    /// <remarks>Never inlined, like <c>KeepFinished</c>: its body must not keep the completion path from being inlined.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseChildren(JobId parent)
    {
        if (_continuations.TakeChildren(parent) is not { } children)
        {
            return;
        }

        foreach (var child in children)
        {
            _ = ReleaseAsync(child).AsTask();
        }
    }

    private async ValueTask ReleaseAsync(JobRecord child)
    {
        try
        {
            await _store.EnqueueAsync(child, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A full queue set to throw, or one shut down: the completion that released it must not fail.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ContinuationReleaseFailed(_logger, ex, child.Id, child.ParentId!.Value);
        }
    }

    /// <summary>The parent was dead-lettered or cancelled: its in-process continuations are failed as each asks.</summary>
    private async ValueTask FailChildrenAsync(JobId parent)
    {
        if (_continuations.TakeChildren(parent) is not { } children)
        {
            return;
        }

        foreach (var child in children)
        {
            await FailContinuationAsync(child).ConfigureAwait(false);
        }
    }

    /// <summary>An in-process continuation whose parent failed, never handed to the store's queue.</summary>
    private ValueTask FailContinuationAsync(JobRecord child)
    {
        Log.ParentFailed(_logger, child.Id, child.Kind, child.Queue, child.ParentId!.Value, child.OnParentFailure == ParentFailureAction.DeadLetter ? "dead-lettered" : "cancelled");
        if (child.OnParentFailure == ParentFailureAction.DeadLetter)
        {
            child.AddError(ParentFailedError(child));
            return DeadLetterAsync(child);
        }

        return SettleCancelledAsync(WorkerOf(child.Queue), child);
    }

    /// <summary>
    /// A job a store released because its parent failed (<see cref="JobRecord.ParentFailed"/>): it does not run; it is
    /// cancelled or dead-lettered as it asks, without charging the attempt the store counted when it handed it out.
    /// </summary>
    private ValueTask SettleParentFailedAsync(Worker worker, JobRecord job)
    {
        UndoAttempt(job);
        Log.ParentFailed(_logger, job.Id, job.Kind, job.Queue, job.ParentId ?? default, job.OnParentFailure == ParentFailureAction.DeadLetter ? "dead-lettered" : "cancelled");
        if (job.OnParentFailure == ParentFailureAction.DeadLetter)
        {
            job.AddError(ParentFailedError(job));
            return DeadLetterAsync(job);
        }

        return SettleCancelledAsync(worker, job);
    }

    /// <summary>Cancels an in-process continuation by id, while it waits for its parent; <see langword="null"/> when none is waiting.</summary>
    private async ValueTask<CancelJobResult?> CancelAwaitingAsync(JobId id)
    {
        if (_continuations.Find(id) is not { } child || !_continuations.TryRemove(child))
        {
            return null;
        }

        await SettleCancelledAsync(WorkerOf(child.Queue), child).ConfigureAwait(false);
        return CancelJobResult.Cancelled;
    }

    private JobInfo? FindAwaiting(JobId id) =>
        _continuations.Find(id) is { } child
            ? new JobInfo(child.Id, child.Queue, child.Kind, JobState.AwaitingParent, child.EnqueuedAt) { Priority = child.Priority, MaxAttempts = child.MaxAttempts }
            : null;

    private JobError ParentFailedError(JobRecord job) =>
        new(job.Attempt, _time.GetUtcNow(), "AsyncQueue.ParentFailed", $"Its parent job {job.ParentId} was dead-lettered or cancelled, so this continuation did not run.", null);

    /// <summary>A worker of the queue, to keep a finished job's status with its share (none before the dispatcher started).</summary>
    private Worker? WorkerOf(string queue) => Array.Find(_workers, worker => worker.Queue == queue);
}
