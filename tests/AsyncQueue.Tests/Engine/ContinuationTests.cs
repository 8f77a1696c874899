using System.Collections.Concurrent;
using AsyncQueue.Monitoring;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Tests.Engine;

/// <summary>
/// The dispatcher's in-process continuations (the in-memory store) beyond what the conformance suite checks: the
/// race between a parent's completion and its continuation's registration, and what a continuation may not ask for.
/// </summary>
public sealed class ContinuationTests
{
    public sealed record Link(int N, bool IsChild);

    public sealed class LinkHandler(ConcurrentDictionary<int, int> childRuns, Countdown children) : IJobHandler<Link>
    {
        public Task HandleAsync(Link job, JobContext context, CancellationToken cancellationToken)
        {
            if (job.IsChild)
            {
                childRuns.AddOrUpdate(job.N, 1, static (_, runs) => runs + 1);
                children.Signal();
            }

            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Continuations registered while their parents run, complete, or have completed: whichever side comes second
    /// (the registration's look-up or the parent's completion) releases each one, and only one of them does.
    /// </summary>
    [Fact]
    public async Task ContinueWith_RacingParentCompletion_RunsEveryContinuationExactlyOnce()
    {
        const int Parents = 500;
        var childRuns = new ConcurrentDictionary<int, int>();
        var children = new Countdown(Parents);
        await using var host = await StartAsync(childRuns, children, finishedJobCapacity: 10_000);

        var registrations = new List<Task>();
        for (var n = 0; n < Parents; n++)
        {
            var parent = (await host.Queue.EnqueueAsync(new Link(n, IsChild: false))).JobId;
            var child = n;
            registrations.Add(Task.Run(async () => await host.Queue.ContinueWithAsync(parent, new Link(child, IsChild: true))));
        }

        await Task.WhenAll(registrations);
        await children.WaitAsync();
        await host.Services.GetRequiredService<IJobQueueMonitor>().WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(Parents, childRuns.Count);
        Assert.All(childRuns.Values, runs => Assert.Equal(1, runs));
    }

    /// <summary>A succeeded parent whose status the in-memory queue does not keep is unknown, and says how to keep it.</summary>
    [Fact]
    public async Task ContinueWith_SucceededParentWithoutKeptStatus_ThrowsParentJobNotFound()
    {
        var children = new Countdown(1);
        await using var host = await StartAsync(new ConcurrentDictionary<int, int>(), children, finishedJobCapacity: null);
        var parent = (await host.Queue.EnqueueAsync(new Link(1, IsChild: false))).JobId;
        await host.Services.GetRequiredService<IJobQueueMonitor>().WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(2));

        var error = await Assert.ThrowsAsync<ParentJobNotFoundException>(async () => await host.Queue.ContinueWithAsync(parent, new Link(1, IsChild: true)));

        Assert.Contains("FinishedJobCapacity", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, children.Remaining);
    }

    /// <summary>An idempotency key is refused before anything is enqueued: a key held by a job that may never run would block it.</summary>
    [Fact]
    public async Task ContinueWith_IdempotencyKey_ThrowsArgumentException()
    {
        await using var host = await StartAsync(new ConcurrentDictionary<int, int>(), new Countdown(1), finishedJobCapacity: 100);
        var parent = (await host.Queue.EnqueueAsync(new Link(1, IsChild: false))).JobId;

        await Assert.ThrowsAsync<ArgumentException>(async () => await host.Queue.ContinueWithAsync(parent, new Link(1, IsChild: true), new ContinuationOptions { Enqueue = new EnqueueOptions { IdempotencyKey = "once" } }));
    }

    /// <summary>An out-of-range failure action is refused when it is set.</summary>
    [Fact]
    public void OnParentFailure_OutOfRange_ThrowsArgumentOutOfRange() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContinuationOptions { OnParentFailure = (ParentFailureAction)7 });

    private static Task<TestHost> StartAsync(ConcurrentDictionary<int, int> childRuns, Countdown children, int? finishedJobCapacity) =>
        TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(childRuns).AddSingleton(children);
            queue.AddHandler<Link, LinkHandler>(q =>
            {
                q.MaxConcurrency = 4;
                q.FinishedJobCapacity = finishedJobCapacity;
            });
        });
}
