using AsyncQueue.RabbitMQ.Storage;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>Retry delays are rounded up to few queue TTLs: never early, at most 12.5% late.</summary>
public sealed class DelayLadderTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(15, 0)]
    [InlineData(16, 16)]
    [InlineData(100, 104)]
    [InlineData(288, 288)]
    [InlineData(300, 320)]
    [InlineData(1_000, 1_024)]
    [InlineData(30_000, 30_720)]
    public void RoundUp_Delay_ReturnsTheNextStepOfTheLadder(long milliseconds, long expected) =>
        Assert.Equal(expected, DelayLadder.RoundUp(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void RoundUp_AnyDelayUpToADay_IsNeverEarlyAndAtMostAnEighthLateWithEightStepsPerDoubling()
    {
        var steps = new HashSet<long>();
        for (var ms = DelayLadder.MinimumMilliseconds; ms <= 86_400_000; ms += 1 + (ms / 97))
        {
            var ttl = DelayLadder.RoundUp(TimeSpan.FromMilliseconds(ms));
            Assert.InRange(ttl, ms, ms + (ms / 8));
            steps.Add(ttl);
        }

        // 16 ms to a day is about 22 doublings.
        Assert.InRange(steps.Count, 1, 8 * 23);
    }
}
