namespace AsyncQueue.Testing;

/// <summary>The job the operations suite runs through a whole job queue.</summary>
/// <param name="Number">Tells the jobs apart.</param>
/// <param name="Behavior">What its handler does.</param>
public sealed record OperationsJob(int Number, OperationsJobBehavior Behavior = OperationsJobBehavior.Succeed);

/// <summary>What an <see cref="OperationsJob"/>'s handler does.</summary>
public enum OperationsJobBehavior
{
    /// <summary>Reports the result <c>result {Number}</c> and succeeds.</summary>
    Succeed,

    /// <summary>Throws an <see cref="InvalidOperationException"/>.</summary>
    Fail,

    /// <summary>Waits until its cancellation token is cancelled, then throws <see cref="OperationCanceledException"/>.</summary>
    WaitForCancel,
}
