using System.Diagnostics;
using System.Reflection;
using System.Text;
using EmailNotifications;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AsyncQueue.RabbitMQ.Tests.Samples;

/// <summary>
/// The EmailNotifications sample switched to RabbitMQ (<c>ASYNCQUEUE_RABBITMQ</c>), run as its README runs it, in its
/// own process, on the test broker: the permanent failure and the email whose server is down reach <c>failed-emails</c>
/// through the broker's dead-letter exchange, which the broker's own CLI and the store's listing both show.
/// </summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class EmailNotificationsOnRabbitMqTests(RabbitMqServer server, ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-rabbitmq-emails-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Main_RabbitMqFromTheEnvironment_DeadLettersTheFailuresIntoFailedEmailsThroughTheBroker()
    {
        var pickup = Path.Combine(_folder, "pickup");

        var (exitCode, stdout, stderr) = await RunSampleAsync([pickup], new Dictionary<string, string> { [DemoOptions.RabbitMqVariable] = server.Uri });
        output.WriteLine(stdout);

        Assert.True(exitCode == 0, $"Exit code {exitCode}.\n{stdout}\n{stderr}");
        Assert.Contains("Store: RabbitMQ at amqp://guest:***@127.0.0.1:", stdout, StringComparison.Ordinal);
        Assert.Contains("Summary: 6 sent, ", stdout, StringComparison.Ordinal);
        Assert.Contains(", 2 dead-lettered, 1 duplicate enqueue(s) ignored.", stdout, StringComparison.Ordinal);
        Assert.Contains("password-reset-grace: enqueued again (double click) → not enqueued", stdout, StringComparison.Ordinal);
        Assert.Contains("password-reset-ken: dead-lettered to 'failed-emails' after 1 attempt(s): AsyncQueue.PermanentJobException", stdout, StringComparison.Ordinal);
        Assert.Contains("order-confirmed-barbara: dead-lettered to 'failed-emails' after 4 attempt(s): System.Net.Mail.SmtpException", stdout, StringComparison.Ordinal);
        Assert.Equal(DemoNotifications.Deliverable.Count, Directory.GetFiles(pickup, "*.eml").Length);

        // The broker's view, by its own CLI on the throwaway node (its node name, and the cookie in its HOME): both
        // failures wait in 'failed-emails'; nothing is left in the work queue or the give-up queue they passed through.
        var queues = ParseQueues(await server.Server.CtlAsync("list_queues", "name", "type", "messages", "--quiet", "--no-table-headers"));
        Assert.Equal(("classic", 2L), queues[NotificationDemo.DeadLetterQueue]);
        Assert.Equal(("quorum", 0L), queues[NotificationDemo.Queue]);
        Assert.Equal(("quorum", 0L), queues[NotificationDemo.DeadLetterQueue + ".give-up"]);

        // ...reached through the broker's dead-letter exchange: 'failed-emails' is bound to it under its own name.
        var bindings = await server.Server.CtlAsync("list_bindings", "source_name", "destination_name", "routing_key", "--quiet", "--no-table-headers");
        Assert.Contains(
            bindings.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            line => line.Split('\t') is ["asyncqueue.dead-letters", NotificationDemo.DeadLetterQueue, NotificationDemo.DeadLetterQueue]);

        // The store's view from another process's services: the dead-letter listing reads both, every error kept.
        await using var services = EmailServices();
        var entries = await services.GetRequiredService<IDeadLetterQueue>().ListAsync(NotificationDemo.DeadLetterQueue);
        Assert.Equal(2, entries.Count);
        var ken = Assert.Single(entries, e => e.Job.Equals(DemoNotifications.InvalidAddress));
        Assert.Equal(1, ken.Attempts);
        Assert.Equal(typeof(PermanentJobException).FullName, Assert.Single(ken.Errors).ExceptionType);
        var barbara = Assert.Single(entries, e => e.Job.Equals(DemoNotifications.ServerDown));
        Assert.Equal(4, barbara.Attempts);
        Assert.Equal([1, 2, 3, 4], barbara.Errors.Select(e => e.Attempt));
        Assert.All(barbara.Errors, e => Assert.Equal(typeof(System.Net.Mail.SmtpException).FullName, e.ExceptionType));

        // Listing browses and puts back: the broker still holds both.
        queues = ParseQueues(await server.Server.CtlAsync("list_queues", "name", "type", "messages", "--quiet", "--no-table-headers"));
        Assert.Equal(("classic", 2L), queues[NotificationDemo.DeadLetterQueue]);
    }

    /// <summary>The sample's queue on the test broker, as another process would register it to read its dead letters (its workers never start).</summary>
    private ServiceProvider EmailServices()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new DeliveryBoard(TextWriter.Null));
        services.AddJobQueue()
            .AddHandler<SendNotification, SendNotificationHandler>(NotificationDemo.Queue, q => q.DeadLetterQueue = NotificationDemo.DeadLetterQueue)
            .UseRabbitMq(server.Uri);
        return services.BuildServiceProvider();
    }

    private static Dictionary<string, (string Type, long Messages)> ParseQueues(string listing) =>
        listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .ToDictionary(f => f[0], f => (f[1], long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)), StringComparer.Ordinal);

    /// <summary>Runs <c>dotnet run --project samples/EmailNotifications --no-build</c> from the repository root, in the configuration these tests were built in.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> RunSampleAsync(string[] args, Dictionary<string, string> environment)
    {
        var configuration = typeof(EmailNotificationsOnRabbitMqTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = RepositoryRoot(),
        };
        foreach (var arg in (string[])["run", "--project", "samples/EmailNotifications", "--no-build", "-c", configuration, "--", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // A hang guard, not a timing: the run takes a few seconds.
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "AsyncQueue.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException($"No AsyncQueue.sln above {AppContext.BaseDirectory}.");
    }
}
