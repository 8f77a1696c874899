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
        foreach (var notification in DemoNotifications.Deliverable)
        {
            var email = Assert.Single(emails, e => e.Message.To.Mailboxes.Single().Address == notification.RecipientEmail);
            EmlAssertions.IsNotification(email.Message, notification);
        }

        Assert.Contains("Summary: 6 sent, ", run.Output, StringComparison.Ordinal);
        Assert.Contains(", 2 dead-lettered, 1 duplicate enqueue(s) ignored.", run.Output, StringComparison.Ordinal);
        Assert.Contains("Dead-letter queue 'failed-emails': 2 entries", run.Output, StringComparison.Ordinal);
        Assert.Contains("attempt 1: AsyncQueue.PermanentJobException: 'ken.example.com' is not a valid email address", run.Output, StringComparison.Ordinal);
        Assert.Contains("order-confirmed-barbara to 'barbara@mail.down.example', 4 attempt(s)", run.Output, StringComparison.Ordinal);
        Assert.Contains("    attempt 4: System.Net.Mail.SmtpException: 421 4.4.2 mail.down.example", run.Output, StringComparison.Ordinal);
        Assert.True(Directory.Exists(pickup), "A pickup folder given on the command line is kept.");
    }

    [Fact]
    public async Task Main_NoFolder_DeletesItsTemporaryPickupFolderAndSaysSo()
    {
        // TMPDIR points the program's temporary folder at the test's own.
        var run = await SampleProcess.RunAsync("EmailNotifications", ["--failure-rate", "0"], hangGuard: TimeSpan.FromMinutes(2), environment: new Dictionary<string, string> { ["TMPDIR"] = _root.Path + Path.DirectorySeparatorChar });

        Assert.True(run.ExitCode == 0, $"Exit code {run.ExitCode}.\n{run.Output}\n{run.Error}");
        Assert.Contains(run.Lines, line => line.StartsWith($"Deleted the temporary pickup folder {_root.Path}", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(_root.Path));
    }

    [Theory]
    [InlineData("--colour", "Unexpected argument '--colour'.")]
    [InlineData("--failure-rate 1.5", "--failure-rate needs a number from 0 to 1, but got '1.5'.")]
    [InlineData("--seed", "--seed needs a whole number, but got ''.")]
    [InlineData("--rabbitmq http://localhost:5672", "--rabbitmq needs an amqp:// or amqps:// URI, but got 'http://localhost:5672'.")]
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
