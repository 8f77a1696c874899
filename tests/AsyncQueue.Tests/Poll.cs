namespace AsyncQueue.Tests;

/// <summary>Waits for a condition that another thread makes true. The limit only turns a hang into a failure; it times nothing.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = Environment.TickCount64 + 120_000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Gave up waiting until {what}.");
            }

            await Task.Delay(1);
        }
    }
}
