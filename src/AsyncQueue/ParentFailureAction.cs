namespace AsyncQueue;

/// <summary>What becomes of a continuation (<see cref="IJobQueue.ContinueWithAsync"/>) whose parent job fails for good.</summary>
public enum ParentFailureAction
{
    /// <summary>The continuation is cancelled: its status becomes <see cref="JobState.Cancelled"/>, and it never runs.</summary>
    Cancel = 0,

    /// <summary>The continuation is dead-lettered, with an error naming its parent, so that it can be inspected and requeued.</summary>
    DeadLetter = 1,
}
