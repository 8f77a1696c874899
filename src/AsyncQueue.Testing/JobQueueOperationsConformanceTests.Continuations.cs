using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// Continuations (<see cref="IJobQueue.ContinueWithAsync"/>, <see cref="IJobQueue.ContinueWhenAllAsync"/>): a store with
/// <see cref="JobStoreCapabilities.Continuations"/> or one that is not durable (the dispatcher holds them) runs them; a
/// durable store without the capability refuses them, and each test then checks that refusal instead.
/// </summary>
public abstract partial class JobQueueOperationsConformanceTests
{
    /// <summary>Gets a value indicating whether the store under test runs continuations (see <see cref="JobStoreCapabilities.Continuations"/>).</summary>
    protected bool SupportsContinuations
    {
        get
        {
            var capabilities = Capabilities;
            return (capabilities & JobStoreCapabilities.Continuations) != 0 || (capabilities & JobStoreCapabilities.Durable) == 0;
        }
    }

    /// <summary>
    /// Whether the store runs continuations; when it does not, first asserts that it refuses one with
    /// <see cref="NotSupportedException"/> (rather than hold it where a crash loses it), so no test passes unchecked.
    /// The tests of continuations also look at job status, pause and move the fake clock: a store that runs them without
    /// those capabilities has the refusals checked instead (<see cref="OffersAsync"/>).
    /// </summary>
    /// <returns><see langword="true"/> when the calling test goes on to check the behaviour.</returns>
    protected async Task<bool> RunsContinuationsAsync()
    {
        if (SupportsContinuations)
        {
            return await OffersAsync(JobStoreCapabilities.JobStatus | JobStoreCapabilities.Pause | JobStoreCapabilities.InjectedClock);
        }

        var parent = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.ContinueWithAsync(parent, new OperationsJob(2)));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await Jobs.ContinueWhenAllAsync([parent], new OperationsJob(2)));
        return false;
    }

    /// <summary>A chain of three waits, each link for its parent, and runs in order once the queue is resumed.</summary>
    [Fact]
    public async Task ContinueWith_ChainOfThree_RunsEachAfterItsParentSucceeded()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var first = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        var second = (await Jobs.ContinueWithAsync(first, new OperationsJob(2))).JobId;
        var third = (await Jobs.ContinueWithAsync(second, new OperationsJob(3))).JobId;
        Assert.Equal(JobState.AwaitingParent, (await Monitor.GetJobAsync(second))!.State);
        Assert.Equal(JobState.AwaitingParent, (await Monitor.GetJobAsync(third))!.State);

        await Jobs.ResumeAsync(Queue);

        var last = await WaitForJobAsync(Monitor, third, i => i?.State == JobState.Succeeded);
        Assert.Equal("result 3", last!.Result);
        Assert.Equal([1, 2, 3], Probe.Started);
    }

    /// <summary>
    /// A dead-lettered parent cancels the continuations that ask so (and theirs in turn) and dead-letters those that ask
    /// that, with an error naming the parent; none of them runs.
    /// </summary>
    [Fact]
    public async Task ContinueWith_ParentDeadLettered_CancelsOrDeadLettersContinuationsAsConfigured()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        var parent = (await Jobs.EnqueueAsync(new OperationsJob(1, OperationsJobBehavior.Fail))).JobId;
        var cancelled = (await Jobs.ContinueWithAsync(parent, new OperationsJob(2))).JobId;
        var grandchild = (await Jobs.ContinueWithAsync(cancelled, new OperationsJob(3), new ContinuationOptions { OnParentFailure = ParentFailureAction.DeadLetter })).JobId;
        var deadLettered = (await Jobs.ContinueWithAsync(parent, new OperationsJob(4), new ContinuationOptions { OnParentFailure = ParentFailureAction.DeadLetter })).JobId;

        await WaitForJobAsync(Monitor, parent, i => i?.State == JobState.DeadLettered, advance: TimeSpan.FromSeconds(20));

        Assert.Equal(JobState.Cancelled, (await WaitForJobAsync(Monitor, cancelled, i => i?.State is JobState.Cancelled or JobState.DeadLettered))!.State);
        var dead = await WaitForJobAsync(Monitor, deadLettered, i => i?.State is JobState.Cancelled or JobState.DeadLettered);
        Assert.Equal(JobState.DeadLettered, dead!.State);
        Assert.Equal("AsyncQueue.ParentFailed", Assert.Single(dead.Errors).ExceptionType);
        Assert.Equal(JobState.DeadLettered, (await WaitForJobAsync(Monitor, grandchild, i => i?.State is JobState.Cancelled or JobState.DeadLettered))!.State);
        Assert.Equal([1, 1], Probe.Started);
    }

    /// <summary>A continuation of a parent that succeeded already is due at once.</summary>
    [Fact]
    public async Task ContinueWith_ParentSucceededAlready_RunsAtOnce()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        var parent = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        await WaitForJobAsync(Monitor, parent, i => i?.State == JobState.Succeeded);

        var child = (await Jobs.ContinueWithAsync(parent, new OperationsJob(2))).JobId;

        await WaitForJobAsync(Monitor, child, i => i?.State == JobState.Succeeded);
    }

    /// <summary>A continuation of an id no job has is refused with a typed error, and nothing is enqueued.</summary>
    [Fact]
    public async Task ContinueWith_UnknownParent_ThrowsParentJobNotFound()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        var unknown = JobId.NewId();

        var error = await Assert.ThrowsAsync<ParentJobNotFoundException>(async () => await Jobs.ContinueWithAsync(unknown, new OperationsJob(1)));

        Assert.Equal(unknown, error.ParentId);
        Assert.Equal(0, (await Monitor.GetStatusAsync(Queue)).Waiting);
    }

    /// <summary>A continuation cancelled while it waits is cancelled, and so is its own continuation; the parent still runs.</summary>
    [Fact]
    public async Task Cancel_AwaitingContinuation_CancelsItAndItsContinuations()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var parent = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        var child = (await Jobs.ContinueWithAsync(parent, new OperationsJob(2))).JobId;
        var grandchild = (await Jobs.ContinueWithAsync(child, new OperationsJob(3))).JobId;

        Assert.Equal(CancelJobResult.Cancelled, await Jobs.CancelAsync(child));
        await Jobs.ResumeAsync(Queue);

        await WaitForJobAsync(Monitor, parent, i => i?.State == JobState.Succeeded);
        Assert.Equal(JobState.Cancelled, (await WaitForJobAsync(Monitor, grandchild, i => i?.State is JobState.Cancelled or JobState.Succeeded))!.State);
        Assert.Equal(JobState.Cancelled, (await Monitor.GetJobAsync(child))!.State);
        Assert.Equal([1], Probe.Started);
    }
}
