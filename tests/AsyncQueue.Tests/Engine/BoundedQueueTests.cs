using AsyncQueue.Storage;
using AsyncQueue.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

using AsyncQueue.Tests.Storage;

namespace AsyncQueue.Tests.Engine;

public sealed class BoundedQueueTests
{
    public sealed record Held(int Number);

    public sealed class HeldHandler(Gate gate) : IJobHandler<Held>
    {
        public async Task HandleAsync(Held job, JobContext context, CancellationToken cancellationToken)
        {
            gate.Entered.Release();
            await gate.Open.Task.WaitAsync(cancellationToken);
        }
    }

    public sealed class Gate
    {
        public SemaphoreSlim Entered { get; } = new(0);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static async Task<(TestHost Host, Gate Gate, IJobStore Store)> StartAsync(QueueFullMode mode, FakeTimeProvider? time = null)
    {
        var gate = new Gate();
        var host = await TestHost.StartAsync((services, queue) =>
        {
            if (time is not null)
            {
                services.AddSingleton<TimeProvider>(time);
            }

            services.AddSingleton(gate);
            queue.AddHandler<Held, HeldHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Capacity = 2;
                q.FullMode = mode;
            });
        });

        // The only worker takes the first job and holds it: the queue itself is empty, with room for 2.
        await host.Queue.EnqueueAsync(new Held(0));
        Assert.True(await gate.Entered.WaitAsync(TimeSpan.FromMinutes(1)));
        return (host, gate, host.Services.GetRequiredService<IJobStore>());
    }

    [Fact]
    public async Task EnqueueAsync_FullQueueInThrowMode_ThrowsNamingQueueAndCapacity()
    {
        var (host, gate, store) = await StartAsync(QueueFullMode.Throw);
        await using var _ = host;

        await host.Queue.EnqueueBatchAsync([new Held(1), new Held(2)]);
        var error = await Assert.ThrowsAsync<JobQueueFullException>(() => host.Queue.EnqueueAsync(new Held(3)).AsTask());
        var waiting = store.CountWaiting(nameof(Held));
        gate.Open.SetResult();

        Assert.Equal(nameof(Held), error.Queue);
        Assert.Equal(2, error.Capacity);
        Assert.Contains("Queue 'Held' is full (Capacity = 2)", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, waiting);
    }

    [Fact]
    public async Task EnqueueBatchAsync_TooBigForThrowMode_AcceptsNothingNotEvenItsDelayedJobs()
    {
        var time = new FakeTimeProvider();
        var (host, gate, store) = await StartAsync(QueueFullMode.Throw, time);
        await using var _ = host;
        await host.Queue.EnqueueAsync(new Held(1));

        // One slot is left: a batch of one delayed and two ready jobs must be refused whole, the delayed one included.
        JobRecord[] batch =
        [
            new(JobId.NewId(), nameof(Held), nameof(Held), new Held(2), time.GetUtcNow()) { NotBefore = time.GetUtcNow().AddMinutes(1) },
            new(JobId.NewId(), nameof(Held), nameof(Held), new Held(3), time.GetUtcNow()),
            new(JobId.NewId(), nameof(Held), nameof(Held), new Held(4), time.GetUtcNow()),
        ];
        await Assert.ThrowsAsync<JobQueueFullException>(() => store.EnqueueBatchAsync(batch, CancellationToken.None).AsTask());
        var waiting = store.CountWaiting(nameof(Held));
        var scheduled = store.CountScheduled(nameof(Held));
        gate.Open.SetResult();

        Assert.Equal(1, waiting);
        Assert.Equal(0, scheduled);
    }

    [Fact]
    public async Task EnqueueAsync_FullQueueInWaitMode_WaitsUntilAWorkerFreesRoom()
    {
        var (host, gate, store) = await StartAsync(QueueFullMode.Wait);
        await using var _ = host;
        await host.Queue.EnqueueBatchAsync([new Held(1), new Held(2)]);

        var waiting = host.Queue.EnqueueAsync(new Held(3)).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(2, store.CountWaiting(nameof(Held)));

        // Releasing the worker lets it take a job, which frees a slot for the waiting producer.
        gate.Open.SetResult();
        var result = await waiting.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(result.Accepted);
    }

    [Fact]
    public async Task EnqueueAsync_WaitingForRoomWhenTheQueueStops_ThrowsStoppedAndAcceptsNothing()
    {
        var (host, gate, store) = await StartAsync(QueueFullMode.Wait);
        await using var _ = host;
        await host.Queue.EnqueueBatchAsync([new Held(1), new Held(2)]);
        var waiting = host.Queue.EnqueueAsync(new Held(3)).AsTask();
        Assert.False(waiting.IsCompleted);

        // The worker stops taking jobs, so no slot would ever free: the producer must not wait forever. Stop requests
        // the workers' stop before it first yields, so the held worker never frees a slot after it.
        var stopping = host.StopAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<JobQueueStoppedException>(() => waiting.WaitAsync(TimeSpan.FromMinutes(1)));
        gate.Open.SetResult();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Contains("the job was not enqueued", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, store.CountWaiting(nameof(Held)));
    }

    [Fact]
    public async Task EnqueueBatchAsync_RoomForPartInWaitMode_WaitsForRoomForAllAndOnStopEnqueuesNone()
    {
        var (host, gate, store) = await StartAsync(QueueFullMode.Wait);
        await using var _ = host;
        await host.Queue.EnqueueAsync(new Held(1));

        // One slot is free: the batch of two must not put its first job in it and then wait for the second.
        var batch = host.Queue.EnqueueBatchAsync([new Held(2), new Held(3)]).AsTask();
        Assert.False(batch.IsCompleted);
        Assert.Equal(1, store.CountWaiting(nameof(Held)));

        // Stop requests the workers' stop before it first yields, so the held worker never frees a slot after it.
        var stopping = host.StopAsync(CancellationToken.None);
        await Assert.ThrowsAsync<JobQueueStoppedException>(() => batch.WaitAsync(TimeSpan.FromMinutes(1)));
        gate.Open.SetResult();
        await stopping.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, store.CountWaiting(nameof(Held)));
    }

    [Fact]
    public async Task EnqueueBatchAsync_LargerThanCapacityInWaitMode_ThrowsAtOnceNamingTheLimit()
    {
        var (host, gate, store) = await StartAsync(QueueFullMode.Wait);
        await using var _ = host;

        var error = await Assert.ThrowsAsync<JobQueueFullException>(() => host.Queue.EnqueueBatchAsync([new Held(1), new Held(2), new Held(3)]).AsTask().WaitAsync(TimeSpan.FromMinutes(1)));
        var waiting = store.CountWaiting(nameof(Held));
        gate.Open.SetResult();

        Assert.Equal(2, error.Capacity);
        Assert.Equal("A batch of 3 jobs can never fit in queue 'Held' (Capacity = 2); no job of it was enqueued. Enqueue at most 2 jobs per batch.", error.Message);
        Assert.Equal(0, waiting);
    }
}
