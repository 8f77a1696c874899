using EmailNotifications;
using MimeKit;

namespace AsyncQueue.Samples.Tests.EmailNotifications;

/// <summary>One in-process run of the sample with its default seed and flaky transport, into a temporary pickup folder, shared by the tests that check it.</summary>
public sealed class DemoRun : IAsyncLifetime
{
    private readonly TempFolder _root = new();

    public DemoReport Report { get; private set; } = null!;

    public string Output { get; private set; } = "";

    /// <summary>Gets every <c>.eml</c> file written, with its bytes and as MimeKit parsed it.</summary>
    public IReadOnlyList<(string Path, byte[] Bytes, MimeMessage Message)> Emails { get; private set; } = [];

    public async Task InitializeAsync()
    {
        using var output = new StringWriter();

        // A hang guard, not a timing: the run normally takes about a second.
        Report = await NotificationDemo.RunAsync(new DemoOptions(Path.Combine(_root.Path, "pickup")), output).WaitAsync(TimeSpan.FromMinutes(2));
        Output = output.ToString();
        Emails = [.. Directory.GetFiles(Report.PickupFolder).Order(StringComparer.Ordinal).Select(Parse)];
    }

    public Task DisposeAsync()
    {
        _root.Dispose();
        return Task.CompletedTask;
    }

    public static (string Path, byte[] Bytes, MimeMessage Message) Parse(string path)
    {
        var bytes = File.ReadAllBytes(path);
        using var stream = new MemoryStream(bytes);
        return (path, bytes, MimeMessage.Load(stream));
    }
}
