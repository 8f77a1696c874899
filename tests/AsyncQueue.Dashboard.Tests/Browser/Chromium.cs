using Microsoft.Playwright;

namespace AsyncQueue.Dashboard.Tests.Browser;

/// <summary>
/// Debian's chromium (package <c>chromium</c>, installed by tools/test.sh), driven by Playwright's bundled Node driver:
/// no browser is downloaded. One browser for the collection; each test opens its own context (cookies, storage).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: install the Debian package 'chromium' (tools/test.sh does).");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>The tests that share <see cref="Chromium"/>; one at a time, as they share the browser.</summary>
[CollectionDefinition(nameof(UsesChromium))]
public sealed class UsesChromium : ICollectionFixture<Chromium>;
