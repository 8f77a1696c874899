using AsyncQueue.Retry;

namespace AsyncQueue.Tests.Retry;

public sealed class RetryPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static RetryArguments Failure(int attempt, Exception? exception = null, int? maxAttempts = null) =>
        new(exception ?? new InvalidOperationException("transient"), attempt, maxAttempts, "kind", "queue", Now);

    [Fact]
    public void Decide_ExponentialWithoutJitter_DoublesDelayUpToCap()
    {
        var policy = RetryPolicy.Exponential(maxRetries: 10, delay: TimeSpan.FromSeconds(1), maxDelay: TimeSpan.FromSeconds(5), jitter: 0);

        var delays = Enumerable.Range(1, 5).Select(attempt => policy.Decide(Failure(attempt)).RunAt - Now);

        Assert.Equal([1, 2, 4, 5, 5], delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public void Decide_WithJitter_AddsSeededJitterAfterTheDelayNeverShorteningIt()
    {
        var policy = new RetryPolicy { MaxRetries = 3, Delay = TimeSpan.FromSeconds(10), Jitter = 0.5, Random = new Random(7) };
        var expected = new Random(7);

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var baseDelay = TimeSpan.FromSeconds(10 * Math.Pow(2, attempt - 1));
            var delay = policy.Decide(Failure(attempt)).RunAt - Now;

            Assert.Equal(baseDelay + (baseDelay * (0.5 * expected.NextDouble())), delay);
            Assert.True(delay >= baseDelay);
        }
    }

    [Fact]
    public void Decide_AfterMaxRetries_GivesUp()
    {
        var policy = RetryPolicy.Fixed(maxRetries: 2, TimeSpan.Zero);

        Assert.True(policy.Decide(Failure(1)).ShouldRetry);
        Assert.True(policy.Decide(Failure(2)).ShouldRetry);
        Assert.False(policy.Decide(Failure(3)).ShouldRetry);
    }

    [Fact]
    public void Decide_PerEnqueueMaxAttempts_OverridesPolicyLimit()
    {
        var policy = RetryPolicy.Fixed(maxRetries: 10, TimeSpan.Zero);

        Assert.True(policy.Decide(Failure(1, maxAttempts: 2)).ShouldRetry);
        Assert.False(policy.Decide(Failure(2, maxAttempts: 2)).ShouldRetry);
    }

    [Fact]
    public void Decide_PermanentFailureOrPredicateRefusal_GivesUpAtOnce()
    {
        var policy = new RetryPolicy { ShouldRetry = ex => ex is TimeoutException };

        Assert.False(policy.Decide(Failure(1, new PermanentJobException("bad address"))).ShouldRetry);
        Assert.False(policy.Decide(Failure(1, new FormatException())).ShouldRetry);
        Assert.True(policy.Decide(Failure(1, new TimeoutException())).ShouldRetry);
    }

    [Fact]
    public void None_NeverRetries() => Assert.False(RetryPolicy.None.Decide(Failure(1)).ShouldRetry);

    [Fact]
    public void MaxRetries_Negative_ThrowsNamingTheProperty()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { MaxRetries = -1 });

        Assert.Equal("MaxRetries", error.ParamName);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Jitter_OutOfRange_ThrowsNamingTheProperty(double jitter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy { Jitter = jitter });

        Assert.Equal("Jitter", error.ParamName);
    }

    [Fact]
    public void Delay_Negative_ThrowsNamingTheProperty()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => RetryPolicy.Fixed(1, TimeSpan.FromSeconds(-1)));

        Assert.Equal("Delay", error.ParamName);
    }
}
