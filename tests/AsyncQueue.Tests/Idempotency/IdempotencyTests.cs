using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Idempotency;

public sealed class IdempotencyTests
{
    public sealed record SendReceipt(int Order);

    public sealed class Counter
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string? LastKey { get; private set; }

        public void Called(string? key)
        {
            LastKey = key;
            Interlocked.Increment(ref _calls);
        }
    }

    public sealed class ReceiptHandler(Counter counter) : IJobHandler<SendReceipt>
    {
        public Task HandleAsync(SendReceipt job, JobContext context, CancellationToken cancellationToken)
        {
            counter.Called(context.IdempotencyKey);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task EnqueueAsync_ThousandRacingEnqueuesWithOneKey_RunsExactlyOneJob()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero));
        var counter = new Counter();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(counter);
            queue.AddHandler<SendReceipt, ReceiptHandler>(q => q.MaxConcurrency = 4);
        });
        var key = new EnqueueOptions { IdempotencyKey = "order-42-receipt" };

        using var start = new Barrier(8);
        var racers = Enumerable.Range(0, 8).Select(r => Task.Run(async () =>
        {
            start.SignalAndWait();
            var results = new List<EnqueueResult>();
            for (var i = 0; i < 125; i++)
            {
                results.Add(await host.Queue.EnqueueAsync(new SendReceipt(42), key));
            }

            return results;
        }));
        var all = (await Task.WhenAll(racers)).SelectMany(r => r).ToList();
        var accepted = Assert.Single(all, r => r.Accepted);
        await Poll.UntilAsync(() => counter.Calls == 1, "the one job ran");

        Assert.Equal(1000, all.Count);
        Assert.All(all, r => Assert.Equal(accepted.JobId, r.JobId));
        Assert.Equal(999, all.Count(r => r.Status == EnqueueStatus.Duplicate));
        Assert.Equal("order-42-receipt", counter.LastKey);

        // Still a duplicate within the 24-hour retention after success; accepted again once it has passed.
        Assert.Equal(EnqueueStatus.Duplicate, (await host.Queue.EnqueueAsync(new SendReceipt(42), key)).Status);
        time.Advance(TimeSpan.FromHours(24));
        var again = await host.Queue.EnqueueAsync(new SendReceipt(42), key);
        Assert.Equal(EnqueueStatus.Accepted, again.Status);
        await Poll.UntilAsync(() => counter.Calls == 2, "the job ran again after the window");
    }

    [Fact]
    public void IdempotencyKey_Empty_ThrowsNamingTheProperty()
    {
        var error = Assert.Throws<ArgumentException>(() => new EnqueueOptions { IdempotencyKey = " " });

        Assert.Equal("IdempotencyKey", error.ParamName);
    }

    [Fact]
    public async Task InMemoryIdempotencyStore_ManySucceededKeys_EvictsExpiredOnes()
    {
        var time = new FakeTimeProvider();
        var store = new AsyncQueue.Idempotency.InMemoryIdempotencyStore(time);
        for (var i = 0; i < 1000; i++)
        {
            var id = JobId.NewId();
            store.TryClaim($"key-{i}", id);
            await store.MarkSucceededAsync($"key-{i}", id, TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        Assert.Equal(1000, store.Count);
        time.Advance(TimeSpan.FromMinutes(1));
        var last = JobId.NewId();
        store.TryClaim("fresh", last);
        await store.MarkSucceededAsync("fresh", last, TimeSpan.FromMinutes(1), CancellationToken.None);

        // Every expired key was evicted by the sweep; only the fresh one is left.
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void InMemoryIdempotencyStore_RetentionEndedBeforeClaimEntryRemoved_NewClaimWins()
    {
        // A success leaves its claim in the dictionary for later claims to move, two per claim, oldest first: the third
        // key's claim is still there, retained and expired, when its key is claimed again.
        var time = new FakeTimeProvider();
        var store = new AsyncQueue.Idempotency.InMemoryIdempotencyStore(time);
        var claims = Enumerable.Range(0, 3).Select(i => store.TryClaim($"key-{i}", JobId.NewId())).ToList();
        claims.ForEach(claim => store.MarkSucceeded(claim, TimeSpan.FromMinutes(1)));

        time.Advance(TimeSpan.FromMinutes(1));
        var fresh = JobId.NewId();

        Assert.Equal(fresh, store.TryClaim("key-2", fresh).JobId);
        Assert.Equal(fresh, store.TryClaim("key-2", JobId.NewId()).JobId);
    }

    [Fact]
    public async Task InMemoryIdempotencyStore_SuccessesWithNoKeyedEnqueueAfter_AreMovedAllTheSame()
    {
        // A keyed backlog drained, then no keyed enqueue comes to move the retained claims: past the limit the thread
        // pool moves them, so they do not stay in the dictionary as objects past the bound and their retention.
        var store = new AsyncQueue.Idempotency.InMemoryIdempotencyStore(new FakeTimeProvider());
        var backlog = 3 * AsyncQueue.Idempotency.InMemoryIdempotencyStore.MoveBehindLimit;
        var claims = Enumerable.Range(0, backlog).Select(i => store.TryClaim($"key-{i}", JobId.NewId())).ToList();
        claims.ForEach(claim => store.MarkSucceeded(claim, TimeSpan.FromHours(1)));

        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (store.WaitingToMove > AsyncQueue.Idempotency.InMemoryIdempotencyStore.MoveBehindLimit)
        {
            await Task.Delay(10, patience.Token);
        }

        // Moved, the keys are still held by the jobs that succeeded.
        Assert.Equal(claims[0].JobId, store.TryClaim("key-0", JobId.NewId()).JobId);
        Assert.Equal(claims[^1].JobId, store.TryClaim($"key-{backlog - 1}", JobId.NewId()).JobId);
        Assert.Equal(backlog, store.RetainedCount);
    }

    [Fact]
    public async Task InMemoryIdempotencyStore_ReleasedClaimSucceedsLater_IsNotRetained()
    {
        // A dead-lettered job frees its key; requeued, it succeeds later through the claim its record still carries.
        var store = new AsyncQueue.Idempotency.InMemoryIdempotencyStore(new FakeTimeProvider());
        var first = JobId.NewId();
        var released = store.TryClaim("key", first);
        await store.ReleaseAsync("key", first, CancellationToken.None);
        store.MarkSucceeded(released, TimeSpan.FromHours(1));

        Assert.Equal(0, store.Count);
        Assert.Equal(0, store.RetainedCount);

        // The key is free for a new job, whose success is retained as usual.
        var second = JobId.NewId();
        var claim = store.TryClaim("key", second);
        Assert.Equal(second, claim.JobId);
        store.MarkSucceeded(claim, TimeSpan.FromHours(1));
        Assert.Equal(1, store.RetainedCount);
        Assert.Equal(second, store.TryClaim("key", JobId.NewId()).JobId);
    }
}
