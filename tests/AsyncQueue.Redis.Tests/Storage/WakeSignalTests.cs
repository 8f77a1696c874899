using AsyncQueue.Redis.Storage;
using Xunit;

namespace AsyncQueue.Redis.Tests.Storage;

/// <summary>
/// The fetch loop's wake-up while it sleeps drained: what a drained lease covered does not wake it, anything that may
/// have made a job due does, including an enqueue whose sequence went back (Redis lost the counter).
/// </summary>
public sealed class WakeSignalTests
{
    [Fact]
    public void SetEnqueued_CoveredByTheDrainedLease_DoesNotWake()
    {
        var wake = Drained(enqueued: 10);

        wake.SetEnqueued(10);
        wake.SetForDemand();

        Assert.False(wake.Task.IsCompleted);
    }

    [Fact]
    public void SetEnqueued_AfterTheDrainedLease_Wakes()
    {
        var wake = Drained(enqueued: 10);

        wake.SetEnqueued(11);

        Assert.True(wake.Task.IsCompleted);
    }

    [Fact]
    public void SetEnqueued_WhenTheSequenceWentBack_WakesAndCountsFromThere()
    {
        // Redis restarted without the counter: the queue's sequence starts again below what the drained lease covered.
        var wake = Drained(enqueued: 1_000);
        var generation = wake.Generation;

        wake.SetEnqueued(1);

        Assert.True(wake.Task.IsCompleted);
        Assert.NotEqual(generation, wake.Generation);
        Assert.Equal(1, wake.Enqueued);
    }

    [Fact]
    public void Set_WhileDrained_Wakes()
    {
        var wake = Drained(enqueued: 10);

        wake.Set();

        Assert.True(wake.Task.IsCompleted);
    }

    [Fact]
    public void SetForDemand_AfterLeaseAgain_Wakes()
    {
        var wake = Drained(enqueued: 10);

        wake.LeaseAgain();
        wake.SetForDemand();

        Assert.True(wake.Task.IsCompleted);
    }

    [Fact]
    public void StillDrained_UntilASetOrALaterEnqueue()
    {
        var wake = Drained(enqueued: 10);
        var generation = wake.Generation;

        Assert.True(wake.StillDrained(generation, wake.Enqueued));

        wake.SetEnqueued(11);
        Assert.False(wake.StillDrained(generation, wake.Enqueued));

        // The loop reads the generation afresh each time round: a set moved it on.
        var again = Drained(enqueued: 10);
        again.Set();
        Assert.False(again.StillDrained(again.Generation, again.Enqueued));
    }

    private static WakeSignal Drained(long enqueued)
    {
        var wake = new WakeSignal();
        wake.SetEnqueued(enqueued);
        wake.Reset();
        wake.SleepDrained(wake.Generation, enqueued);
        return wake;
    }
}
