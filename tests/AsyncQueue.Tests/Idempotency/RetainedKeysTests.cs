using System.Collections.Concurrent;
using AsyncQueue.Idempotency;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Idempotency;

public sealed class RetainedKeysTests
{
    [Theory]
    [InlineData(0, "a3817f04ba25a8e66df67214c7550293")]
    [InlineData(1, "da87c1d86b99af44347659119b22fc45")]
    [InlineData(63, "5150d1772f50834a503e069a973fbd7c")]
    public void Compute_ReferenceVectors_MatchSipHash128(int length, string expected)
    {
        // The reference implementation's vectors (github.com/veorq/SipHash, vectors.h): key 00..0f, message 00..length-1.
        var message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        var hash = KeyHash.Compute(message, 0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL);

        var bytes = BitConverter.GetBytes(hash.Low).Concat(BitConverter.GetBytes(hash.High));
        Assert.Equal(expected, Convert.ToHexStringLower([.. bytes]));
    }

    [Fact]
    public void Add_MoreKeysThanTheBound_KeepsAtMostTheBoundAndEvictsTheOldestFirst()
    {
        const int Bound = 5000;
        var keys = new RetainedKeys(Bound);
        var ids = new JobId[20_000];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = JobId.NewId();
            keys.Add(KeyHash.Of($"key-{i}"), ids[i], long.MaxValue, 0);
            Assert.InRange(keys.Count, 1, Bound);
        }

        Assert.False(keys.TryFind(KeyHash.Of("key-0"), 0, out _));
        Assert.False(keys.TryFind(KeyHash.Of("key-14000"), 0, out _));
        Assert.True(keys.TryFind(KeyHash.Of("key-19999"), 0, out var newest));
        Assert.Equal(ids[^1], newest);
    }

    [Fact]
    public void TryFind_ManyKeysAcrossGenerations_FindsEveryOneWithItsHolder()
    {
        // 100,000 keys fill six generations of 1,024 to 50,000 entries (the bound keeps them all), each with its own
        // filter: none may hide a key it holds.
        var keys = new RetainedKeys(200_000);
        var ids = new JobId[100_000];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = JobId.NewId();
            keys.Add(KeyHash.Of($"key-{i}"), ids[i], long.MaxValue, 0);
        }

        for (var i = 0; i < ids.Length; i++)
        {
            Assert.True(keys.TryFind(KeyHash.Of($"key-{i}"), 0, out var holder), $"key-{i} was not found.");
            Assert.Equal(ids[i], holder);
        }

        Assert.False(keys.TryFind(KeyHash.Of("key-100000"), 0, out _));
    }

    [Fact]
    public void TryFind_KeyExpired_IsNotFound()
    {
        var keys = new RetainedKeys(1000);
        var id = JobId.NewId();
        keys.Add(KeyHash.Of("key"), id, expiresAtTicks: 100, nowTicks: 0);

        Assert.True(keys.TryFind(KeyHash.Of("key"), 99, out var holder));
        Assert.Equal(id, holder);
        Assert.False(keys.TryFind(KeyHash.Of("key"), 100, out _));
        Assert.False(keys.TryFind(KeyHash.Of("other"), 0, out _));
    }

    [Fact]
    public async Task TryClaim_RacingClaimsWhileKeysMoveToRetained_OneHolderPerKey()
    {
        // Four threads claim the same 5,000 keys, each in its own order; a winner marks its key succeeded at once or a
        // little later, so claims race the move from the live keys to the retained ones, across several generations.
        const int Keys = 5000;
        var store = new InMemoryIdempotencyStore(new FakeTimeProvider());
        var winners = new ConcurrentDictionary<string, JobId>();
        var seen = new ConcurrentBag<(string Key, JobId Holder)>();
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            var order = Enumerable.Range(0, Keys).OrderBy(_ => random.Next()).ToArray();
            var pending = new Queue<InMemoryIdempotencyStore.Claim>();
            start.SignalAndWait();
            for (var round = 0; round < 3; round++)
            {
                foreach (var k in order)
                {
                    var key = $"key-{k}";
                    var id = JobId.NewId();
                    var claim = store.TryClaim(key, id);
                    seen.Add((key, claim.JobId));
                    if (claim.JobId == id)
                    {
                        Assert.True(winners.TryAdd(key, id), $"A second claim won '{key}'.");
                        pending.Enqueue(claim);
                    }

                    while (pending.Count > random.Next(8))
                    {
                        store.MarkSucceeded(pending.Dequeue(), TimeSpan.FromHours(1));
                    }
                }
            }

            while (pending.TryDequeue(out var claim))
            {
                store.MarkSucceeded(claim, TimeSpan.FromHours(1));
            }
        })).ToArray();
        await Task.WhenAll(threads);

        Assert.Equal(Keys, winners.Count);
        Assert.All(seen, s => Assert.Equal(winners[s.Key], s.Holder));
        Assert.Equal(Keys, store.RetainedCount);
        Assert.Equal(Keys, store.Count);
    }
}
