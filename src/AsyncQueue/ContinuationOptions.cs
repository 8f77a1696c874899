namespace AsyncQueue;

/// <summary>Settings of a continuation (<see cref="IJobQueue.ContinueWithAsync"/>). Each property is checked when it is set.</summary>
public sealed class ContinuationOptions
{
    private readonly ParentFailureAction _onParentFailure = ParentFailureAction.Cancel;

    /// <summary>
    /// Gets what becomes of the continuation when its parent is dead-lettered or cancelled. A continuation of a
    /// continuation that ends so is treated the same way, so a whole chain ends when one link fails.
    /// </summary>
    /// <value>The default value is <see cref="ParentFailureAction.Cancel"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not one of <see cref="ParentFailureAction"/>'s.</exception>
    public ParentFailureAction OnParentFailure
    {
        get => _onParentFailure;
        init
        {
            if (value is not (ParentFailureAction.Cancel or ParentFailureAction.DeadLetter))
            {
                throw new ArgumentOutOfRangeException(nameof(OnParentFailure), value, "OnParentFailure must be Cancel or DeadLetter.");
            }

            _onParentFailure = value;
        }
    }

    /// <summary>
    /// Gets the per-enqueue settings of the continuation itself (queue, priority, attempts, delay). A delay counts from
    /// the enqueue: a continuation released later than its <see cref="EnqueueOptions.NotBefore"/> runs at once.
    /// <see cref="EnqueueOptions.IdempotencyKey"/> is not supported on a continuation.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the job type's defaults.</value>
    public EnqueueOptions? Enqueue { get; init; }
}
