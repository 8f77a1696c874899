using Microsoft.Playwright;

namespace AsyncQueue.Dashboard.Tests.Browser;

/// <summary>
/// Saves a page's screenshot into docs/dashboard/ when the environment variable <see cref="Variable"/> is <c>1</c>
/// (docs/dashboard.md shows them): <c>ASYNCQUEUE_DASHBOARD_SCREENSHOTS=1 dotnet test tests/AsyncQueue.Dashboard.Tests</c>.
/// </summary>
internal static class Screenshots
{
    public const string Variable = "ASYNCQUEUE_DASHBOARD_SCREENSHOTS";

    public static async Task TakeAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            return;
        }

        var folder = Path.Combine(RepositoryRoot(), "docs", "dashboard");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "AsyncQueue.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No AsyncQueue.sln above {AppContext.BaseDirectory}: screenshots go into the repository's docs/dashboard/.");
    }
}
