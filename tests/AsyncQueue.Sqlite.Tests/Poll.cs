namespace AsyncQueue.Sqlite.Tests;

/// <summary>Waits for a condition that another thread or process makes true. The limit only turns a hang into a failure; it times nothing.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string what, int limitSeconds = 120)
    {
        var deadline = Environment.TickCount64 + (limitSeconds * 1000L);
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Gave up waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }
}
