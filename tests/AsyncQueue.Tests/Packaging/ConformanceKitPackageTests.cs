using System.Text.RegularExpressions;

namespace AsyncQueue.Tests.Packaging;

/// <summary>
/// The conformance kit as a third-party store author gets it: packed with the core into a local feed, referenced only as
/// packages by a fresh xunit project, and run there against the in-memory store.
/// </summary>
public sealed partial class ConformanceKitPackageTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("asyncqueue-kit-").FullName;

    [Fact]
    public async Task Pack_ThenTestProjectFromLocalFeed_RunsTheKitAgainstTheInMemoryStore()
    {
        var root = LocalFeed.FindRepositoryRoot();
        var feed = Directory.CreateDirectory(Path.Combine(_work, "feed")).FullName;

        // A version no earlier run used, so the NuGet cache cannot serve a stale package.
        var suffix = "kit" + Guid.NewGuid().ToString("N")[..12];
        foreach (var project in new[] { "AsyncQueue", "AsyncQueue.Testing" })
        {
            await LocalFeed.RunAsync(root, "dotnet", "pack", Path.Combine(root, "src", project, project + ".csproj"), "-c", "Release", "-o", feed, $"-p:VersionSuffix={suffix}");
        }

        var version = $"0.1.0-{suffix}";
        Assert.True(File.Exists(Path.Combine(feed, $"AsyncQueue.Testing.{version}.nupkg")), "dotnet pack made no AsyncQueue.Testing package");

        var tests = Directory.CreateDirectory(Path.Combine(_work, "store-tests")).FullName;
        await LocalFeed.WriteNuGetConfigAsync(tests, feed);
        await File.WriteAllTextAsync(Path.Combine(tests, "StoreTests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <IsPackable>false</IsPackable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AsyncQueue.Testing" Version="{version}" />
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
                <PackageReference Include="xunit" Version="2.9.3" />
                <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(tests, "InMemoryStoreConformanceTests.cs"), """
            using AsyncQueue;
            using AsyncQueue.Testing;

            public sealed class InMemoryStoreConformanceTests : JobStoreConformanceTests
            {
                // The in-memory store is the default: nothing to replace.
                protected override void ConfigureStore(IJobQueueBuilder builder)
                {
                }
            }
            """);

        var output = await LocalFeed.RunAsync(tests, "dotnet", "test", Path.Combine(tests, "StoreTests.csproj"));

        var summary = Summary().Match(output);
        Assert.True(summary.Success, $"no test summary in:\n{output}");
        Assert.Equal("0", summary.Groups["failed"].Value);
        Assert.True(int.Parse(summary.Groups["passed"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 20, $"too few kit tests ran:\n{output}");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [GeneratedRegex(@"Failed:\s+(?<failed>\d+), Passed:\s+(?<passed>\d+)")]
    private static partial Regex Summary();
}
