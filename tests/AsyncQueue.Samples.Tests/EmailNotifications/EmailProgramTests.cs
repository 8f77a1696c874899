using EmailNotifications;

namespace AsyncQueue.Samples.Tests.EmailNotifications;

/// <summary>The sample as its page runs it: <c>dotnet run --project samples/EmailNotifications</c>, in its own process.</summary>
public sealed class EmailProgramTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Main_PickupFolder_WritesTheEmailsPrintsTheSummaryAndExitsZero()
    {
        var pickup = Path.Combine(_root.Path, "pickup");

        var run = await RunAsync([pickup]);

        Assert.True(run.ExitCode == 0, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        var emails = Directory.GetFiles(pickup).Select(DemoRun.Parse).ToList();
        Assert.Equal(6, emails.Count);
        foreach (var notification in DemoNotifications.All.Where(n => n != DemoNotifications.InvalidAddress))
        {
            var email = Assert.Single(emails, e => e.Message.To.Mailboxes.Single().Address == notification.RecipientEmail);
            EmlAssertions.IsNotification(email.Message, notification);
        }

        Assert.Contains("Summary: 6 sent, ", run.Output, StringComparison.Ordinal);
        Assert.Contains(", 1 dead-lettered, 1 duplicate enqueue(s) ignored.", run.Output, StringComparison.Ordinal);
        Assert.Contains("Dead-letter queue 'failed-emails': 1 entry", run.Output, StringComparison.Ordinal);
        Assert.Contains("attempt 1: AsyncQueue.PermanentJobException: 'ken.example.com' is not a valid email address", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--colour", "Unexpected argument '--colour'.")]
    [InlineData("--failure-rate 1.5", "--failure-rate needs a number from 0 to 1, but got '1.5'.")]
    [InlineData("--seed", "--seed needs a whole number, but got ''.")]
    public async Task Main_BadArguments_PrintsWhatIsWrongAndTheUsageAndExitsTwo(string arguments, string message)
    {
        var run = await RunAsync(arguments.Split(' '));

        Assert.True(run.ExitCode == 2, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        Assert.Contains($"{message} Usage: dotnet run --project samples/EmailNotifications", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Output);
    }

    // A hang guard, not a timing: the program normally ends in a second or two.
    private static Task<SampleRun> RunAsync(string[] args) => SampleProcess.RunAsync("EmailNotifications", args, hangGuard: TimeSpan.FromMinutes(2));
}
