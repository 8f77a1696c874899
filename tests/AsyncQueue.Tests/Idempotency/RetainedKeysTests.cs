using AsyncQueue.Idempotency;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Idempotency;

public sealed class RetainedKeysTests
{
    [Fact]
    public void TryFind_TwoKeysWithOneHash_NeitherStandsForTheOther()
    {
        // A hash is a hint: a collision must never refuse a distinct job.
        var keys = new RetainedKeys();
        var first = JobId.NewId();
        var second = JobId.NewId();
        keys.Add("order-1", 42, first, long.MaxValue);
        keys.Add("order-2", 42, second, long.MaxValue);

        Assert.True(keys.TryFind("order-1", 42, out var holder, out _));
        Assert.Equal(first, holder);
        Assert.True(keys.TryFind("order-2", 42, out holder, out _));
        Assert.Equal(second, holder);
        Assert.False(keys.TryFind("order-3", 42, out _, out _));
        Assert.False(keys.TryFind("order-", 42, out _, out _));
    }

    [Fact]
    public void Add_ManyKeysEvictedAsTheyGo_FindsEveryRetainedOneAcrossTheRingsWrap()
    {
        // Keys of varied lengths, evicted from the oldest end as new ones come: the rings wrap, grow and are reused.
        var keys = new RetainedKeys();
        var holders = new Dictionary<string, JobId>();
        for (var i = 0; i < 5_000; i++)
        {
            var key = $"key-{i}-{new string('x', i % 37)}";
            var holder = JobId.NewId();
            holders[key] = holder;
            keys.Add(key, key.GetHashCode(StringComparison.Ordinal), holder, expiresAtTicks: i + 100);
            keys.Evict(nowTicks: i, max: 300);
        }

        Assert.Equal(100, keys.Count);
        for (var i = 0; i < 5_000; i++)
        {
            var key = $"key-{i}-{new string('x', i % 37)}";
            var found = keys.TryFind(key, key.GetHashCode(StringComparison.Ordinal), out var holder, out var expires);
            Assert.Equal(i >= 4_900, found);
            if (found)
            {
                Assert.Equal(holders[key], holder);
                Assert.Equal(i + 100, expires);
            }
        }
    }

    [Fact]
    public void Evict_MoreThanTheBound_EvictsTheOldestFirst()
    {
        var keys = new RetainedKeys();
        for (var i = 0; i < 10; i++)
        {
            keys.Add($"k{i}", i, JobId.NewId(), long.MaxValue);
        }

        keys.Evict(nowTicks: 0, max: 4);

        Assert.Equal(4, keys.Count);
        Assert.False(keys.TryFind("k5", 5, out _, out _));
        Assert.True(keys.TryFind("k6", 6, out _, out _));
        Assert.True(keys.TryFind("k9", 9, out _, out _));
    }

    [Fact]
    public void Add_KeyRetainedAgain_FindsTheNewerHolder()
    {
        var keys = new RetainedKeys();
        var older = JobId.NewId();
        var newer = JobId.NewId();
        keys.Add("key", 7, older, expiresAtTicks: 10);
        keys.Add("key", 7, newer, expiresAtTicks: 20);

        Assert.True(keys.TryFind("key", 7, out var holder, out var expires));
        Assert.Equal(newer, holder);
        Assert.Equal(20, expires);

        // The older entry is evicted first; the newer stays findable.
        keys.Evict(nowTicks: 10, max: 100);
        Assert.True(keys.TryFind("key", 7, out holder, out _));
        Assert.Equal(newer, holder);
    }

    [Fact]
    public async Task TryClaim_ManyThreadsRaceOnEachKey_ExactlyOneWinsPerKey()
    {
        var store = new InMemoryIdempotencyStore(new FakeTimeProvider());
        const int Keys = 2_000;
        var winners = new int[Keys];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < Keys; i++)
            {
                var id = JobId.NewId();
                if (store.TryClaim($"key-{i}", id) == id)
                {
                    Interlocked.Increment(ref winners[i]);
                    store.MarkSucceeded($"key-{i}", id, TimeSpan.FromHours(1));
                }
            }
        })));

        Assert.All(winners, count => Assert.Equal(1, count));
        Assert.Equal(Keys, store.RetainedCount);
    }

    [Fact]
    public void TryClaim_RetainedKeyExpired_IsClaimedAgain()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(time);
        var first = JobId.NewId();
        store.TryClaim("key", first);
        store.MarkSucceeded("key", first, TimeSpan.FromMinutes(1));
        Assert.Equal(first, store.TryClaim("key", JobId.NewId()));

        time.Advance(TimeSpan.FromMinutes(1));
        var second = JobId.NewId();

        Assert.Equal(second, store.TryClaim("key", second));
    }
}
