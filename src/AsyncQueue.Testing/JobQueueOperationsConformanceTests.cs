using AsyncQueue.Monitoring;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AsyncQueue.Testing;

/// <summary>
/// The operations of a job queue on a store, tested through a whole running job queue (<see cref="IJobQueue"/>,
/// <see cref="IJobQueueMonitor"/> and workers), since for some stores the dispatcher keeps part of the answer (the
/// in-memory store's running and finished jobs): job status by id, cancel by id, pause and resume, priorities and
/// waiting for idle. A store's test project subclasses it and overrides <see cref="ConfigureStore"/>; a durable store
/// subclasses <see cref="DurableJobQueueOperationsConformanceTests"/>, which adds what processes sharing it must see.
/// A test of an operation the store declares it cannot do (<see cref="Storage.JobStoreCapabilities.JobStatus"/>,
/// <see cref="Storage.JobStoreCapabilities.Pause"/>, <see cref="Storage.JobStoreCapabilities.Priorities"/>) checks the
/// refusal instead (see <see cref="OffersAsync"/>).
/// </summary>
public abstract partial class JobQueueOperationsConformanceTests : IAsyncLifetime
{
    /// <summary>The queue every test uses: one worker, one retry a minute after a failure.</summary>
    protected const string Queue = "operations";

    /// <summary>How long a test waits for something that should happen at once before it fails, so a broken store fails rather than hangs.</summary>
    protected static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly List<ServiceProvider> _processes = [];

    /// <summary>Gets the fake clock every process of a test runs on.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Gets the test's first process.</summary>
    protected ServiceProvider First { get; private set; } = null!;

    /// <summary>Gets the job queue of the test's first process.</summary>
    protected IJobQueue Jobs { get; private set; } = null!;

    /// <summary>Gets the monitor of the test's first process.</summary>
    protected IJobQueueMonitor Monitor { get; private set; } = null!;

    /// <summary>Gets the probe of the test's first process.</summary>
    protected OperationsProbe Probe { get; private set; } = null!;

    /// <inheritdoc />
    public virtual async Task InitializeAsync()
    {
        var first = First = await StartProcessAsync();
        Jobs = first.GetRequiredService<IJobQueue>();
        Monitor = first.GetRequiredService<IJobQueueMonitor>();
        Probe = first.GetRequiredService<OperationsProbe>();
        Capabilities = first.GetRequiredService<Storage.IJobStore>().Capabilities;
    }

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        foreach (var process in _processes.ToArray())
        {
            await StopAsync(process);
        }
    }

    /// <summary>
    /// Replaces the default store with the one under test. Each call within one test must configure the same storage,
    /// since a test may start several processes.
    /// </summary>
    /// <param name="builder">The job queue builder.</param>
    protected abstract void ConfigureStore(IJobQueueBuilder builder);

    /// <summary>Starts one more process on the store under test, with its workers running, on <see cref="Time"/>.</summary>
    /// <param name="startWorkers">Whether the process runs workers; one that does not only enqueues and operates.</param>
    /// <param name="configure">Changes to the queue's options for this process, if any.</param>
    /// <returns>The process's services; the suite stops them at the end of the test.</returns>
    protected async Task<ServiceProvider> StartProcessAsync(bool startWorkers = true, Action<QueueOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<OperationsProbe>();
        var builder = services.AddJobQueue().AddHandler<OperationsJob, OperationsJobHandler>(Queue, q =>
        {
            q.MaxConcurrency = 1;
            q.Retry = RetryPolicy.Fixed(1, TimeSpan.FromMinutes(1));
            q.FinishedJobRetention = TimeSpan.FromHours(1);

            // Set, since the in-memory store keeps no finished statuses unless asked (a durable store's default is 10,000).
            q.FinishedJobCapacity = 1_000;
            configure?.Invoke(q);
        });
        ConfigureStore(builder);
        var process = services.BuildServiceProvider();
        _processes.Add(process);
        foreach (var hosted in startWorkers ? process.GetServices<IHostedService>() : [])
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        return process;
    }

    /// <summary>Stops a process's workers and disposes its services, as a host does.</summary>
    /// <param name="process">The process.</param>
    /// <returns>A task that completes when it stopped.</returns>
    protected async Task StopAsync(ServiceProvider process)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!_processes.Remove(process))
        {
            return;
        }

        foreach (var hosted in process.GetServices<IHostedService>().Reverse())
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await hosted.StopAsync(patience.Token);
        }

        await process.DisposeAsync();
    }

    /// <summary>Waits until a job's status satisfies <paramref name="condition"/>, failing after <see cref="Guard"/>.</summary>
    /// <param name="monitor">The monitor to ask.</param>
    /// <param name="id">The job's id.</param>
    /// <param name="condition">What to wait for.</param>
    /// <param name="advance">How far to move the clock between two looks, so timers (retries, heartbeats, sweeps) fire.</param>
    /// <returns>The status that satisfied it.</returns>
    protected async Task<JobInfo?> WaitForJobAsync(IJobQueueMonitor monitor, JobId id, Func<JobInfo?, bool> condition, TimeSpan advance = default)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(condition);
        using var guard = new CancellationTokenSource(Guard);
        JobInfo? info = null;
        while (!guard.IsCancellationRequested)
        {
            info = await monitor.GetJobAsync(id);
            if (condition(info))
            {
                return info;
            }

            if (advance > TimeSpan.Zero)
            {
                Time.Advance(advance);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None);
        }

        Assert.Fail($"Job {id} did not reach the awaited status within {Guard}; its last status was {info?.ToString() ?? "not found"}.");
        return null;
    }

    /// <summary>A succeeded job reports its state, attempt, times and the result its handler set.</summary>
    [Fact]
    public async Task GetJob_SucceededJob_ReportsStateAttemptTimesAndResult()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        var id = (await Jobs.EnqueueAsync(new OperationsJob(1))).JobId;

        var info = await WaitForJobAsync(Monitor, id, i => i?.State == JobState.Succeeded);

        Assert.Equal(Queue, info!.Queue);
        Assert.Equal(id, info.Id);
        Assert.Equal(1, info.Attempt);
        Assert.Equal("result 1", info.Result);
        Assert.Equal(Time.GetUtcNow(), info.EnqueuedAt);
        Assert.NotNull(info.FinishedAt);
        Assert.Empty(info.Errors);
    }

    /// <summary>An id no job has gives no status and cannot be cancelled.</summary>
    [Fact]
    public async Task GetJobAndCancel_UnknownId_ReportNotFound()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        Assert.Null(await Monitor.GetJobAsync(JobId.NewId()));
        Assert.Equal(CancelJobResult.NotFound, await Jobs.CancelAsync(JobId.NewId()));
    }

    /// <summary>A failing job is retrying with its first error, then dead-lettered with both; a dead-lettered job cannot be cancelled.</summary>
    [Fact]
    public async Task GetJob_FailingJob_IsRetryingThenDeadLetteredWithEveryError()
    {
        if (!Has(Storage.JobStoreCapabilities.JobStatus))
        {
            await AssertFailingJobDeadLetteredWithoutStatusAsync();
            return;
        }

        var id = (await Jobs.EnqueueAsync(new OperationsJob(2, OperationsJobBehavior.Fail))).JobId;

        var retrying = await WaitForJobAsync(Monitor, id, i => i?.State == JobState.Retrying);
        Assert.Equal(1, retrying!.Attempt);
        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromMinutes(1), retrying.NextRunAt);
        Assert.Single(retrying.Errors);

        var dead = await WaitForJobAsync(Monitor, id, i => i?.State == JobState.DeadLettered, advance: TimeSpan.FromSeconds(20));
        Assert.Equal(2, dead!.Attempt);
        Assert.Equal(["failure of job 2, attempt 1", "failure of job 2, attempt 2"], dead.Errors.Select(e => e.Message));
        Assert.NotNull(dead.DeadLetterQueue);
        Assert.Equal(CancelJobResult.AlreadyFinished, await Jobs.CancelAsync(id));
    }

    /// <summary>A paused queue accepts jobs and starts none; its status says paused; a resume runs them.</summary>
    [Fact]
    public async Task Pause_Queue_AcceptsJobsStartsNoneUntilResumed()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.Pause | Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var id = (await Jobs.EnqueueAsync(new OperationsJob(3))).JobId;

        var status = await Monitor.GetStatusAsync(Queue);
        Assert.True(status.Paused);
        Assert.Equal(1, status.Waiting);
        Assert.Equal(JobState.Waiting, (await Monitor.GetJobAsync(id))!.State);
        Assert.Empty(Probe.Started);

        await Jobs.ResumeAsync(Queue);
        await WaitForJobAsync(Monitor, id, i => i?.State == JobState.Succeeded);
        Assert.False((await Monitor.GetStatusAsync(Queue)).Paused);
    }

    /// <summary>The most urgent due job runs first, and jobs of one priority in the order they were enqueued.</summary>
    [Fact]
    public async Task Priority_MixedPriorities_RunMostUrgentFirstThenInEnqueueOrder()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.Priorities | Storage.JobStoreCapabilities.Pause | Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var priorities = new[] { JobPriority.Low, JobPriority.Normal, JobPriority.Urgent, JobPriority.High, JobPriority.Normal, JobPriority.Urgent, JobPriority.Low, JobPriority.High };
        var ids = new List<JobId>();
        for (var i = 0; i < priorities.Length; i++)
        {
            ids.Add((await Jobs.EnqueueAsync(new OperationsJob(10 + i), new EnqueueOptions { Priority = priorities[i] })).JobId);
        }

        Assert.Equal(JobPriority.Urgent, (await Monitor.GetJobAsync(ids[2]))!.Priority);
        await Jobs.ResumeAsync(Queue);
        await WaitForJobAsync(Monitor, ids[^1], i => i?.State == JobState.Succeeded);
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);

        Assert.Equal([12, 15, 13, 17, 11, 14, 10, 16], Probe.Started);
    }

    /// <summary>A waiting job that is cancelled never runs, is reported cancelled, and frees its idempotency key.</summary>
    [Fact]
    public async Task Cancel_WaitingJob_NeverRunsAndFreesItsKey()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus | Storage.JobStoreCapabilities.Pause | Storage.JobStoreCapabilities.IdempotencyKeys))
        {
            return;
        }

        await Jobs.PauseAsync(Queue);
        var id = (await Jobs.EnqueueAsync(new OperationsJob(20), new EnqueueOptions { IdempotencyKey = "op-20" })).JobId;

        Assert.Equal(CancelJobResult.Cancelled, await Jobs.CancelAsync(id));
        Assert.Equal(JobState.Cancelled, (await Monitor.GetJobAsync(id))!.State);
        var after = await Jobs.EnqueueAsync(new OperationsJob(21), new EnqueueOptions { IdempotencyKey = "op-20" });
        Assert.Equal(EnqueueStatus.Accepted, after.Status);
        await Jobs.ResumeAsync(Queue);
        await WaitForJobAsync(Monitor, after.JobId, i => i?.State == JobState.Succeeded);
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);

        Assert.Equal([21], Probe.Started);
        Assert.Equal(JobState.Cancelled, (await Monitor.GetJobAsync(id))!.State);
        Assert.Equal(CancelJobResult.AlreadyFinished, await Jobs.CancelAsync(id));
    }

    /// <summary>A delayed job that is cancelled never runs, even once its time has come.</summary>
    [Fact]
    public async Task Cancel_ScheduledJob_NeverRunsWhenItsTimeComes()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus | Storage.JobStoreCapabilities.InjectedClock))
        {
            return;
        }

        var id = (await Jobs.EnqueueAsync(new OperationsJob(22), new EnqueueOptions { Delay = TimeSpan.FromMinutes(5) })).JobId;
        Assert.Equal(JobState.Scheduled, (await Monitor.GetJobAsync(id))!.State);

        Assert.Equal(CancelJobResult.Cancelled, await Jobs.CancelAsync(id));
        Time.Advance(TimeSpan.FromMinutes(10));
        var marker = (await Jobs.EnqueueAsync(new OperationsJob(23))).JobId;
        await WaitForJobAsync(Monitor, marker, i => i?.State == JobState.Succeeded, advance: TimeSpan.FromSeconds(1));

        Assert.DoesNotContain(22, Probe.Started);
        Assert.Equal(JobState.Cancelled, (await Monitor.GetJobAsync(id))!.State);
    }

    /// <summary>A running job's cancel fires its handler's token; the job ends cancelled, neither retried nor dead-lettered.</summary>
    [Fact]
    public async Task Cancel_RunningJob_FiresItsTokenAndEndsCancelled()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        var id = (await Jobs.EnqueueAsync(new OperationsJob(24, OperationsJobBehavior.WaitForCancel))).JobId;
        await Probe.WhenStarted(24).WaitAsync(Guard);
        Assert.Equal(JobState.Running, (await Monitor.GetJobAsync(id))!.State);

        Assert.Equal(CancelJobResult.CancellationRequested, await Jobs.CancelAsync(id));

        var info = await WaitForJobAsync(Monitor, id, i => i?.State == JobState.Cancelled);
        Assert.Equal(1, info!.Attempt);
        Assert.Equal(1, Probe.Cancelled);
        Time.Advance(TimeSpan.FromMinutes(5));
        await Monitor.WaitForIdleAsync(Queue).WaitAsync(Guard);
        Assert.Equal([24], Probe.Started);
        Assert.Equal(0, (await Monitor.GetStatusAsync(Queue)).DeadLettered);
    }

    /// <summary>A succeeded job cannot be cancelled: the cancel says it had finished.</summary>
    [Fact]
    public async Task Cancel_SucceededJob_ReportsAlreadyFinished()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        var id = (await Jobs.EnqueueAsync(new OperationsJob(25))).JobId;
        await WaitForJobAsync(Monitor, id, i => i?.State == JobState.Succeeded);

        Assert.Equal(CancelJobResult.AlreadyFinished, await Jobs.CancelAsync(id));
        Assert.Equal(JobState.Succeeded, (await Monitor.GetJobAsync(id))!.State);
    }

    /// <summary>Waiting for idle returns once every enqueued job has run (and, with job status, each reads succeeded).</summary>
    [Fact]
    public async Task WaitForIdle_AfterEnqueues_ReturnsOnceEveryJobRan()
    {
        var ids = new List<JobId>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await Jobs.EnqueueAsync(new OperationsJob(30 + i))).JobId);
        }

        await Monitor.WaitForIdleAsync().WaitAsync(Guard);

        Assert.Equal(Enumerable.Range(30, 20), Probe.Started.Order());
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus))
        {
            return;
        }

        foreach (var id in ids)
        {
            Assert.Equal(JobState.Succeeded, (await Monitor.GetJobAsync(id))!.State);
        }
    }

    /// <summary>A finished job's status is kept for the queue's retention (an hour here), then reported not found.</summary>
    [Fact]
    public async Task GetJob_PastFinishedJobRetention_ReportsNotFound()
    {
        if (!await OffersAsync(Storage.JobStoreCapabilities.JobStatus | Storage.JobStoreCapabilities.InjectedClock))
        {
            return;
        }

        var id = (await Jobs.EnqueueAsync(new OperationsJob(50))).JobId;
        await WaitForJobAsync(Monitor, id, i => i?.State == JobState.Succeeded);

        Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(JobState.Succeeded, (await Monitor.GetJobAsync(id))!.State);
        await WaitForJobAsync(Monitor, id, i => i is null, advance: TimeSpan.FromMinutes(1));
    }
}
