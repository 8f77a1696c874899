using AsyncQueue.Monitoring;
using AsyncQueue.Recurring.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Recurring.Tests;

/// <summary>
/// A started job queue with recurring jobs on a fake clock. The clock moves only while the scheduler waits on its timer,
/// and each move waits until the scheduler has enqueued what fell due and waits again, so no step races the scheduler.
/// </summary>
internal sealed class RecurringHost(JobQueueTestHost host, FakeTimeProvider time) : IAsyncDisposable
{
    public FakeTimeProvider Time { get; } = time;

    public TickRecorder Recorder => host.Services.GetRequiredService<TickRecorder>();

    public IRecurringJobs Jobs => host.Services.GetRequiredService<IRecurringJobs>();

    public IServiceProvider Services => host.Services;

    private RecurringScheduler Scheduler => host.Services.GetRequiredService<RecurringScheduler>();

    /// <summary>Starts a host on <paramref name="time"/>; <paramref name="configure"/> adds recurring jobs (and may pick a store).</summary>
    public static async Task<RecurringHost> StartAsync(FakeTimeProvider time, Action<IJobQueueBuilder> configure, TickRecorder? recorder = null)
    {
        var host = await JobQueueTestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(recorder ?? new TickRecorder());
            queue.AddHandler<TickJob, TickJobHandler>();
            configure(queue);
        });
        var started = new RecurringHost(host, time);
        await started.WaitForWaitAsync(0);
        return started;
    }

    /// <summary>Moves the clock to <paramref name="to"/>, which must be at or after the next run, and waits until the scheduler handled it.</summary>
    public async Task AdvanceToAsync(DateTimeOffset to)
    {
        var waits = Scheduler.Waits;
        Time.Advance(to - Time.GetUtcNow());
        await WaitForWaitAsync(waits);
    }

    /// <summary>Makes a change through <see cref="IRecurringJobs"/> and waits until the woken scheduler waits again.</summary>
    public async Task ChangeAsync(Action<IRecurringJobs> change)
    {
        var waits = Scheduler.Waits;
        change(Jobs);
        await WaitForWaitAsync(waits);
    }

    /// <summary>Moves the clock to each next run of <paramref name="name"/> until past <paramref name="end"/>; returns the next runs it stepped to.</summary>
    public async Task<List<DateTimeOffset>> StepThroughAsync(string name, DateTimeOffset end)
    {
        var steps = new List<DateTimeOffset>();
        while (Jobs.List().Single(j => j.Name == name).NextRun is { } next && next <= end)
        {
            steps.Add(next);
            await AdvanceToAsync(next);
        }

        return steps;
    }

    /// <summary>Waits until every enqueued job ran (in-memory store).</summary>
    public Task WaitForJobsAsync() => host.Services.GetRequiredService<IJobQueueMonitor>().WaitForIdleAsync();

    public ValueTask DisposeAsync() => host.DisposeAsync();

    private Task WaitForWaitAsync(long before) => Poll.UntilAsync(() => Scheduler.Waits > before, "the recurring scheduler enqueued what was due and waits again");
}
