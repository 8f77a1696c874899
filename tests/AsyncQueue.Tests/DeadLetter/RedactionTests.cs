using System.Collections.Concurrent;
using System.Diagnostics;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AsyncQueue.Tests.DeadLetter;

public sealed class RedactionTests
{
    private const string Secret = "hunter2-and-ada@example.com";

    public sealed record Signup(string Plan, [property: Sensitive] string Email, [property: Sensitive] string Password);

    public sealed class RejectingHandler : IJobHandler<Signup>
    {
        public Task HandleAsync(Signup job, JobContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the signup service refused the request");
    }

    [Fact]
    public async Task DeadLetteredJob_WithSensitiveProperties_NeverShowsThemInLogsTracesOrDeadLetterViews()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AsyncQueue",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging());
            queue.AddHandler<Signup, RejectingHandler>(q => q.Retry = RetryPolicy.Fixed(1, TimeSpan.Zero));
        });
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        var job = await host.Queue.EnqueueAsync(new Signup("pro", "ada@example.com", Secret));
        await Poll.UntilAsync(() => deadLetters.CountAsync("Signup-dead-letter").AsTask().Result == 1, "the job was dead-lettered");
        await Poll.UntilAsync(() => spans.Count(s => Equals(s.GetTagItem("messaging.message.id"), job.JobId.ToString())) == 2, "both attempts' spans ended");

        var entry = Assert.Single(await deadLetters.ListAsync("Signup-dead-letter"));
        Assert.Equal(new Dictionary<string, string?> { ["Plan"] = "pro", ["Email"] = "***", ["Password"] = "***" }, entry.DescribeJob());
        Assert.DoesNotContain(Secret, entry.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", entry.ToString(), StringComparison.Ordinal);
        Assert.Contains("Plan = pro", entry.ToString(), StringComparison.Ordinal);

        var logs = host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.Contains(logs, log => log.Id.Id == 2);
        Assert.All(logs, log => Assert.DoesNotContain("ada@example.com", log.Message + log.Exception, StringComparison.Ordinal));

        var tags = spans.SelectMany(s => s.TagObjects.Select(t => $"{t.Value}").Concat(s.Events.SelectMany(e => e.Tags.Select(t => $"{t.Value}"))));
        Assert.All(tags, tag => Assert.DoesNotContain("ada@example.com", tag, StringComparison.Ordinal));
    }
}
