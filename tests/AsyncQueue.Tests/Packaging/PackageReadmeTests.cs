using System.Text.RegularExpressions;

namespace AsyncQueue.Tests.Packaging;

/// <summary>
/// Each package's README, as nuget.org shows it: an install line, an example, and only absolute links (a relative
/// link resolves against the gallery page and breaks). <see cref="PackageTests"/> checks the packed copy of the core's.
/// </summary>
public sealed partial class PackageReadmeTests
{
    /// <summary>Every project under <c>src/</c>, since everything there ships as a package (src/Directory.Build.props).</summary>
    private static readonly string[] PackageNames =
        [.. Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "*.csproj", SearchOption.AllDirectories).Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Packages => new(PackageNames);

    [Fact]
    public void Packages_FoundUnderSrc_IncludeTheFourApplicationPackages()
    {
        Assert.Superset(new HashSet<string>(["AsyncQueue", "AsyncQueue.Sqlite", "AsyncQueue.PostgreSql", "AsyncQueue.HealthChecks"]), PackageNames.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Readme_EveryPackage_HasAnInstallLineAnExampleAndOnlyAbsoluteLinks(string package)
    {
        var path = Path.Combine(RepositoryRoot(), "src", package, "README.md");

        AssertIsAPackageReadme(File.ReadAllText(path), package);
    }

    /// <summary>Asserts what every package README must have; used on the source files and on a packed nupkg's copy.</summary>
    internal static void AssertIsAPackageReadme(string readme, string package)
    {
        Assert.StartsWith($"# {package}\n", readme.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"dotnet add package {package}\n", readme.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("```csharp", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet run --project samples/", readme, StringComparison.Ordinal);
        Assert.DoesNotContain(".ci/run", readme, StringComparison.Ordinal);

        var links = Link().Matches(readme).Select(m => m.Groups["target"].Value).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, target => Assert.True(
            Uri.TryCreate(target, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps,
            $"{package}'s README links to '{target}', which is not an absolute https URL: on nuget.org it would resolve against the gallery page."));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AsyncQueue.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AsyncQueue.sln not found above the test assembly.");
    }

    // A Markdown inline link or image: [text](target) or ![alt](target).
    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex Link();
}
