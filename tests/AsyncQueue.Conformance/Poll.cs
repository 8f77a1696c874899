using Xunit;

namespace AsyncQueue.Conformance;

/// <summary>Waits for a condition that another thread or process makes true. The limit only turns a hang into a failure; it times nothing.</summary>
public static class Poll
{
    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    /// <param name="condition">The condition, checked every 10 ms.</param>
    /// <param name="what">What the condition means, for the failure message.</param>
    /// <param name="limitSeconds">How long to wait before calling it a hang.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    public static Task UntilAsync(Func<bool> condition, string what, int limitSeconds = 120) =>
        UntilAsync(() => Task.FromResult(condition()), what, limitSeconds);

    /// <summary>Waits until the asynchronous <paramref name="condition"/> holds.</summary>
    /// <param name="condition">The condition, checked every 10 ms.</param>
    /// <param name="what">What the condition means, for the failure message.</param>
    /// <param name="limitSeconds">How long to wait before calling it a hang.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int limitSeconds = 120)
    {
        var deadline = Environment.TickCount64 + (limitSeconds * 1000L);
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Gave up waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }
}
