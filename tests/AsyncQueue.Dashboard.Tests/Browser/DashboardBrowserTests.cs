using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using WebUpload;
using static Microsoft.Playwright.Assertions;

namespace AsyncQueue.Dashboard.Tests.Browser;

/// <summary>
/// The WebUpload sample's dashboard in a real browser: what an operator sees and does. Every wait is for something to
/// appear on the page (Playwright's expect), with a generous limit that only guards against a hang.
/// </summary>
[Collection(nameof(UsesChromium))]
public sealed class DashboardBrowserTests(Chromium chromium) : IAsyncLifetime
{
    private static readonly LocatorAssertionsToHaveTextOptions Patiently = new() { Timeout = 60_000 };
    private readonly List<string> _consoleErrors = [];
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
        _page = await _context.NewPageAsync();

        // A Content-Security-Policy violation (an inline script or style the page should not have) is a console error.
        _page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add(message.Text);
            }
        };
    }

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task RequeueDeadLetter_AfterTheCauseIsFixed_JobSucceeds()
    {
        var compressor = new TestCompressor(failing: true);
        await using var app = await RunningUploadApp.StartAsync(compressor);
        var id = await app.UploadAsync("quarterly-report.pdf");

        // The front page's counts refresh by themselves: the failed upload arrives in the dead-letter column.
        await _page.GotoAsync(app.DashboardUrl);
        await Expect(Row().Locator("[data-field='deadLettered'] a")).ToHaveTextAsync("1", Patiently);
        await Expect(_page.Locator("#loopback-only")).ToBeVisibleAsync();
        await Screenshots.TakeAsync(_page, "queues");

        await Row().Locator("[data-field='deadLettered'] a").ClickAsync();
        var entry = _page.Locator($"tr[data-job='{id}']");
        await Expect(entry).ToContainTextAsync(TestCompressor.Failure);
        await Screenshots.TakeAsync(_page, "dead-letters");

        // Inspected: the payload as JSON, the error as text (its angle brackets encoded, not markup).
        await entry.Locator("a").ClickAsync();
        await Expect(_page.Locator("#payload")).ToContainTextAsync("\"FileName\": \"quarterly-report.pdf\"");
        await Expect(_page.Locator("ul.errors .message")).ToHaveTextAsync(TestCompressor.Failure);
        await Screenshots.TakeAsync(_page, "dead-letter");

        compressor.Heal();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Requeue" }).ClickAsync();

        // Requeue leads to the job's page; reload it until the job has run again.
        await Expect(_page.Locator("p.notice.done")).ToContainTextAsync("Requeued");
        await ReloadUntilAsync(_page.Locator("#job-state"), "Succeeded");
        await Expect(_page.Locator("#job-attempts")).ToHaveTextAsync("1");
        await Screenshots.TakeAsync(_page, "job");
        Assert.Equal(JobState.Succeeded, (await app.Monitor.GetJobAsync(id))!.State);

        await _page.GotoAsync($"{app.DashboardUrl}/dead-letters/{RunningUploadApp.Queue}-dead-letter");
        await Expect(_page.Locator("#dead-letter-count")).ToHaveTextAsync("0");
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task PauseQueue_ThenUpload_StartsNothingUntilResumed()
    {
        var compressor = new TestCompressor(failing: false);
        await using var app = await RunningUploadApp.StartAsync(compressor);
        await _page.GotoAsync(app.DashboardUrl);

        await Row().GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(Row().Locator("[data-field='state']")).ToHaveTextAsync("Paused");
        Assert.True((await app.Monitor.GetStatusAsync(RunningUploadApp.Queue)).Paused);

        var uploads = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => app.UploadAsync($"photo-{i}.jpg")));

        // All three are seen waiting, after every upload was accepted: a paused queue started none of them.
        await Expect(Row().Locator("[data-field='waiting']")).ToHaveTextAsync("3", Patiently);
        await Expect(Row().Locator("[data-field='running']")).ToHaveTextAsync("0");
        Assert.Equal(0, compressor.Started);
        await Screenshots.TakeAsync(_page, "queues-paused");
        foreach (var id in uploads)
        {
            Assert.Equal(JobState.Waiting, (await app.Monitor.GetJobAsync(id))!.State);
        }

        await Row().GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(Row().Locator("[data-field='state']")).ToHaveTextAsync("Active");
        await Expect(Row().Locator("[data-field='succeeded']")).ToHaveTextAsync("3", Patiently);
        await Expect(Row().Locator("[data-field='waiting']")).ToHaveTextAsync("0", Patiently);
        Assert.Equal(3, compressor.Started);

        // The same refresh drew the chart: the succeeded line rises above its baseline (y = 38) somewhere in the last minute.
        var points = await Row().Locator("svg[data-chart] polyline.succeeded").GetAttributeAsync("points");
        Assert.Contains(points!.Split(' '), point => double.Parse(point.Split(',')[1], CultureInfo.InvariantCulture) < 38);
        Assert.Empty(_consoleErrors);
    }

    [Fact]
    public async Task PostAction_WithoutTheFormsAntiforgeryToken_IsRefusedAndChangesNothing()
    {
        await using var app = await RunningUploadApp.StartAsync(new TestCompressor(failing: false));
        await _page.GotoAsync(app.DashboardUrl);
        var pause = $"{app.DashboardUrl}/queues/{RunningUploadApp.Queue}/pause";

        // The browser holds the dashboard's antiforgery cookie; a post without the form's token (what another site's
        // form or a script would send) is refused, and one with a made-up token too.
        var noToken = await _page.APIRequest.PostAsync(pause, new() { Form = _context.APIRequest.CreateFormData(), MaxRedirects = 0 });
        var forged = await _page.APIRequest.PostAsync(pause, new() { Form = _context.APIRequest.CreateFormData().Set("__RequestVerificationToken", "forged"), MaxRedirects = 0 });

        Assert.Equal(400, noToken.Status);
        Assert.Equal(400, forged.Status);
        Assert.Contains("antiforgery token is missing or not valid", await noToken.TextAsync(), StringComparison.Ordinal);
        Assert.False((await app.Monitor.GetStatusAsync(RunningUploadApp.Queue)).Paused);
        await _page.ReloadAsync();
        await Expect(Row().Locator("[data-field='state']")).ToHaveTextAsync("Active");

        // The same action from the page's own form, with its token, is done.
        await Row().GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(Row().Locator("[data-field='state']")).ToHaveTextAsync("Paused");
        Assert.True((await app.Monitor.GetStatusAsync(RunningUploadApp.Queue)).Paused);
        Assert.Empty(_consoleErrors);
    }

    private ILocator Row() => _page.Locator($"tr[data-queue='{RunningUploadApp.Queue}']");

    /// <summary>Reloads the page until <paramref name="locator"/> shows <paramref name="text"/>. The limit is a hang guard: nothing is timed.</summary>
    private async Task ReloadUntilAsync(ILocator locator, string text)
    {
        var hangGuard = Stopwatch.StartNew();
        while ((await locator.TextContentAsync())?.Trim() != text)
        {
            if (hangGuard.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"The page never showed '{text}'; it shows:{Environment.NewLine}{await _page.Locator("main").InnerTextAsync()}");
            }

            await Task.Delay(100);
            await _page.ReloadAsync();
        }
    }
}
