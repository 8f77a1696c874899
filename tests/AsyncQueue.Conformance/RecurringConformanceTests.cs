using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AsyncQueue.Conformance;

/// <summary>
/// Recurring jobs on a shared store: two job queues (two processes, in one) run the same every-second schedule on one
/// store, and each tick becomes exactly one job, run once. Every durable store's test project derives it. It runs on
/// the real clock (the two hosts share no fake one), waits until the window's ticks ran, and times nothing.
/// </summary>
public abstract class RecurringConformanceTests
{
    private const int Ticks = 5;

    /// <summary>Puts a job queue on the store under test; every call must reach the same store (one file, schema or prefix per test).</summary>
    /// <param name="builder">The job queue's builder.</param>
    protected abstract void ConfigureStore(IJobQueueBuilder builder);

    /// <summary>Two hosts, one store, one schedule: exactly one job per tick.</summary>
    /// <returns>A task that completes when the test did.</returns>
    [Fact]
    public async Task TwoHostsOneStore_EverySecondSchedule_ExactlyOneJobPerTick()
    {
        var runs = new ConcurrentQueue<string>();
        await using var first = await StartAsync(runs);
        await using var second = await StartAsync(runs);

        // Both hosts schedule every tick from the second after the later one started.
        var start = TimeProvider.System.GetUtcNow();
        var firstTick = new DateTimeOffset(start.UtcTicks - (start.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(2);
        string[] window = [.. Enumerable.Range(0, Ticks).Select(i => $"recurring:conformance-tick:{firstTick.AddSeconds(i).UtcDateTime:O}")];
        await Poll.UntilAsync(() => window.All(runs.Contains), $"the jobs of {Ticks} consecutive ticks ran");
        await first.StopAsync();
        await second.StopAsync();

        Assert.All(window, key => Assert.Single(runs, key));
        Assert.Equal(runs.Count, runs.Distinct().Count());
    }

    private Task<JobQueueTestHost> StartAsync(ConcurrentQueue<string> runs) => JobQueueTestHost.StartAsync((services, queue) =>
    {
        services.AddSingleton(runs);
        queue.AddHandler<ConformanceTick, ConformanceTickHandler>();
        ConfigureStore(queue);
        queue.AddRecurringJob("conformance-tick", "* * * * * *", () => new ConformanceTick());
    });
}

/// <summary>The job of <see cref="RecurringConformanceTests"/>' schedule.</summary>
[JobKind("conformance-tick")]
public sealed record ConformanceTick;

/// <summary>Records the idempotency key of each run: the schedule's name and tick.</summary>
/// <param name="runs">The runs of the test.</param>
public sealed class ConformanceTickHandler(ConcurrentQueue<string> runs) : IJobHandler<ConformanceTick>
{
    /// <inheritdoc />
    public Task HandleAsync(ConformanceTick job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Enqueue(context.IdempotencyKey ?? "(no key)");
        return Task.CompletedTask;
    }
}
