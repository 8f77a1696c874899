using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Dashboard.Tests.Security;

/// <summary>Job data on the pages: HTML-encoded wherever it appears, sensitive fields redacted, long lists paged.</summary>
public sealed class JobDataTests
{
    private const string Hostile = "<img src=x onerror=alert(1)>";
    private const string DeadLetterQueue = "sign-up-dead-letter";

    [Fact]
    public async Task DeadLetterPages_JobDataWithMarkup_ShowItEncodedAndTheSensitiveFieldRedacted()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();
        var id = await app.DeadLetterAsync(new SignUp("ada@example.com", Hostile));

        var list = await app.SendAsync("GET", $"/jobs/dead-letters/{DeadLetterQueue}", IPAddress.Loopback);
        var entry = await app.SendAsync("GET", $"/jobs/dead-letter/{id}", IPAddress.Loopback);
        var job = await app.SendAsync("GET", $"/jobs/job/{id}", IPAddress.Loopback);

        foreach (var (status, _, body) in new[] { list, entry, job })
        {
            Assert.Equal(200, status);
            Assert.DoesNotContain("<img", body, StringComparison.Ordinal);
            Assert.Contains("Cannot greet &lt;img src=x onerror=alert(1)&gt;", body, StringComparison.Ordinal);
        }

        // The payload as JSON: the display name as text (JSON-escaped, then HTML-encoded), the e-mail address redacted.
        Assert.Contains("&quot;Email&quot;: &quot;***&quot;", entry.Body, StringComparison.Ordinal);
        Assert.Contains("&quot;DisplayName&quot;: &quot;\\u003Cimg src=x onerror=alert(1)\\u003E&quot;", entry.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", entry.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLettersPage_MoreThanAPage_ListsOnePageWithLinksToTheOthers()
    {
        await using var app = await InMemoryDashboardApp.StartAsync(map: a => a.MapJobQueueDashboard("/jobs", o => o.PageSize = 10));
        for (var i = 0; i < 25; i++)
        {
            await app.DeadLetterAsync(new SignUp($"user{i}@example.com", $"user {i}"));
        }

        var first = await app.SendAsync("GET", $"/jobs/dead-letters/{DeadLetterQueue}", IPAddress.Loopback);
        var last = await app.SendAsync("GET", $"/jobs/dead-letters/{DeadLetterQueue}?page=3", IPAddress.Loopback);

        Assert.Equal(10, Rows(first.Body));
        Assert.Contains("Page 1 of 3", first.Body, StringComparison.Ordinal);
        Assert.Contains($"href=\"/jobs/dead-letters/{DeadLetterQueue}?page=2\"", first.Body, StringComparison.Ordinal);
        Assert.Equal(5, Rows(last.Body));
        Assert.Contains("Page 3 of 3", last.Body, StringComparison.Ordinal);
        Assert.Contains("Cannot greet user 24", last.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"next\"", last.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_UnknownNamesAndIds_AnswerTheDashboards404()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();

        Assert.Equal(404, (await app.SendAsync("GET", "/jobs/dead-letters/no-such-queue", IPAddress.Loopback)).Status);
        Assert.Equal(404, (await app.SendAsync("GET", $"/jobs/job/{JobId.NewId()}", IPAddress.Loopback)).Status);
        Assert.Equal(404, (await app.SendAsync("GET", "/jobs/dead-letter/not-an-id", IPAddress.Loopback)).Status);
        Assert.Equal(400, (await app.SendAsync("GET", "/jobs/job?id=%3Cscript%3E", IPAddress.Loopback)).Status);
        Assert.DoesNotContain("<script>", (await app.SendAsync("GET", "/jobs/job?id=%3Cscript%3E", IPAddress.Loopback)).Body, StringComparison.Ordinal);
    }

    private static int Rows(string body) => body.Split("<tr data-job=").Length - 1;
}
