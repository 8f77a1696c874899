using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// Continuations of several parents (<see cref="IJobQueue.ContinueWhenAllAsync"/>), such as a batch's follow-up: the
/// store counts the parents still to succeed as it settles each, releases the follow-up once, and fails it when any
/// parent fails.
/// </summary>
public abstract partial class JobQueueOperationsConformanceTests
{
    /// <summary>A follow-up waits while any parent has yet to succeed, and runs once after the last one did.</summary>
    [Fact]
    public async Task ContinueWhenAll_AllParentsSucceed_RunsFollowUpOnceAfterTheLast()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        var batch = await Jobs.EnqueueBatchAsync([new OperationsJob(1), new OperationsJob(2)]);
        var late = (await Jobs.EnqueueAsync(new OperationsJob(3), new EnqueueOptions { Delay = TimeSpan.FromMinutes(10) })).JobId;
        var followUp = (await Jobs.ContinueWhenAllAsync([batch[0].JobId, batch[1].JobId, late], new OperationsJob(9))).JobId;

        await WaitForJobAsync(Monitor, batch[0].JobId, i => i?.State == JobState.Succeeded);
        await WaitForJobAsync(Monitor, batch[1].JobId, i => i?.State == JobState.Succeeded);
        Assert.Equal(JobState.AwaitingParent, (await Monitor.GetJobAsync(followUp))!.State);

        Time.Advance(TimeSpan.FromMinutes(10));

        var done = await WaitForJobAsync(Monitor, followUp, i => i?.State == JobState.Succeeded);
        Assert.Equal("result 9", done!.Result);
        Assert.Equal([1, 2, 3, 9], Probe.Started);
    }

    /// <summary>
    /// A dead-lettered parent fails the follow-ups of its batch as each asks (cancelled or dead-lettered), though other
    /// parents succeeded before it; a parent that succeeds after it releases nothing.
    /// </summary>
    [Fact]
    public async Task ContinueWhenAll_OneParentDeadLettered_CancelsOrDeadLettersFollowUpsAsConfigured()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        var succeeded = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        var failing = (await Jobs.EnqueueAsync(new OperationsJob(2, OperationsJobBehavior.Fail))).JobId;
        var late = (await Jobs.EnqueueAsync(new OperationsJob(3), new EnqueueOptions { Delay = TimeSpan.FromMinutes(30) })).JobId;
        JobId[] parents = [succeeded, failing, late];
        var cancelled = (await Jobs.ContinueWhenAllAsync(parents, new OperationsJob(8))).JobId;
        var deadLettered = (await Jobs.ContinueWhenAllAsync(parents, new OperationsJob(9), new ContinuationOptions { OnParentFailure = ParentFailureAction.DeadLetter })).JobId;

        await WaitForJobAsync(Monitor, failing, i => i?.State == JobState.DeadLettered, advance: TimeSpan.FromSeconds(20));

        Assert.Equal(JobState.Cancelled, (await WaitForJobAsync(Monitor, cancelled, i => i?.State is JobState.Cancelled or JobState.DeadLettered or JobState.Succeeded))!.State);
        var dead = await WaitForJobAsync(Monitor, deadLettered, i => i?.State is JobState.Cancelled or JobState.DeadLettered or JobState.Succeeded);
        Assert.Equal(JobState.DeadLettered, dead!.State);
        Assert.Equal("AsyncQueue.ParentFailed", Assert.Single(dead.Errors).ExceptionType);

        // The last parent's success finds no link left: neither follow-up runs.
        Time.Advance(TimeSpan.FromMinutes(30));
        await WaitForJobAsync(Monitor, late, i => i?.State == JobState.Succeeded);
        var marker = (await Jobs.EnqueueAsync(new OperationsJob(4))).JobId;
        await WaitForJobAsync(Monitor, marker, i => i?.State == JobState.Succeeded);
        Assert.Equal([1, 2, 2, 3, 4], Probe.Started);
        Assert.Equal(JobState.Cancelled, (await Monitor.GetJobAsync(cancelled))!.State);
    }

    /// <summary>
    /// Parents that finished before the follow-up was registered count as they ended: all succeeded makes it due at
    /// once; one dead-lettered fails it at once.
    /// </summary>
    [Fact]
    public async Task ContinueWhenAll_ParentsFinishedBeforeRegistration_RunsOrFailsAtOnce()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        var first = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        var second = (await Jobs.EnqueueAsync(new OperationsJob(2))).JobId;
        var failed = (await Jobs.EnqueueAsync(new OperationsJob(3, OperationsJobBehavior.Fail))).JobId;
        await WaitForJobAsync(Monitor, second, i => i?.State == JobState.Succeeded);
        await WaitForJobAsync(Monitor, failed, i => i?.State == JobState.DeadLettered, advance: TimeSpan.FromSeconds(20));

        var runs = (await Jobs.ContinueWhenAllAsync([first, second], new OperationsJob(8))).JobId;
        var fails = (await Jobs.ContinueWhenAllAsync([first, failed], new OperationsJob(9), new ContinuationOptions { OnParentFailure = ParentFailureAction.DeadLetter })).JobId;

        await WaitForJobAsync(Monitor, runs, i => i?.State == JobState.Succeeded);
        Assert.Equal(JobState.DeadLettered, (await WaitForJobAsync(Monitor, fails, i => i?.State is JobState.DeadLettered or JobState.Cancelled or JobState.Succeeded))!.State);
        Assert.DoesNotContain(9, Probe.Started);
    }

    /// <summary>An id listed twice is one parent, waited for once: its one success releases the follow-up.</summary>
    [Fact]
    public async Task ContinueWhenAll_DuplicateParentIds_WaitsForEachOnce()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var parent = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        var followUp = (await Jobs.ContinueWhenAllAsync([parent, parent, parent], new OperationsJob(9))).JobId;
        Assert.Equal(JobState.AwaitingParent, (await Monitor.GetJobAsync(followUp))!.State);

        await Jobs.ResumeAsync(Queue);

        await WaitForJobAsync(Monitor, followUp, i => i?.State == JobState.Succeeded);
        Assert.Equal([1, 9], Probe.Started);
    }

    /// <summary>One unknown id among the parents refuses the follow-up, naming that id; nothing is enqueued or released.</summary>
    [Fact]
    public async Task ContinueWhenAll_OneParentUnknown_ThrowsParentJobNotFoundAndEnqueuesNothing()
    {
        if (!await RunsContinuationsAsync())
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var parent = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;
        var unknown = JobId.NewId();

        var error = await Assert.ThrowsAsync<ParentJobNotFoundException>(async () => await Jobs.ContinueWhenAllAsync([parent, unknown], new OperationsJob(9)));

        Assert.Equal(unknown, error.ParentId);
        await Jobs.ResumeAsync(Queue);
        await WaitForJobAsync(Monitor, parent, i => i?.State == JobState.Succeeded);
        var marker = (await Jobs.EnqueueAsync(new OperationsJob(2))).JobId;
        await WaitForJobAsync(Monitor, marker, i => i?.State == JobState.Succeeded);
        Assert.Equal([1, 2], Probe.Started);
    }

    /// <summary>An empty list of parents is refused before any store is asked.</summary>
    [Fact]
    public async Task ContinueWhenAll_NoParents_ThrowsArgumentException()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await Jobs.ContinueWhenAllAsync([], new OperationsJob(9)));

        Assert.Equal("parentIds", error.ParamName);
    }
}
