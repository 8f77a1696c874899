using System.IO.Compression;
using System.Xml.Linq;

namespace AsyncQueue.Tests.Packaging;

/// <summary>Packs the library and uses it the way a newcomer does after <c>dotnet add package</c>, from a local folder feed.</summary>
public sealed class PackageTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("asyncqueue-pack-").FullName;

    [Fact]
    public async Task Pack_ThenConsoleAppFromLocalFeed_BuildsRunsAndHandlesAJob()
    {
        var root = LocalFeed.FindRepositoryRoot();
        var feed = Directory.CreateDirectory(Path.Combine(_work, "feed")).FullName;

        // A version no earlier run used, so the NuGet cache cannot serve a stale package.
        var suffix = "test" + Guid.NewGuid().ToString("N")[..12];
        await LocalFeed.RunAsync(root, "dotnet", "pack", Path.Combine(root, "src", "AsyncQueue", "AsyncQueue.csproj"), "-c", "Release", "-o", feed, $"-p:VersionSuffix={suffix}");
        var version = $"0.1.0-{suffix}";
        var package = Path.Combine(feed, $"AsyncQueue.{version}.nupkg");
        Assert.True(File.Exists(package), $"dotnet pack made no {package}");
        Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), "no symbol package");
        AssertPackageContents(package);

        var app = Directory.CreateDirectory(Path.Combine(_work, "app")).FullName;
        await LocalFeed.WriteNuGetConfigAsync(app, feed);
        await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AsyncQueue" Version="{version}" />
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.12" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using AsyncQueue;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;

            var builder = Host.CreateApplicationBuilder();
            var handled = new TaskCompletionSource<string>();
            builder.Services.AddSingleton(handled);
            builder.Services.AddJobQueue().AddHandler<Greet, GreetHandler>();
            using var host = builder.Build();
            await host.StartAsync();
            await host.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new Greet("newcomer"));
            Console.WriteLine(await handled.Task.WaitAsync(TimeSpan.FromMinutes(1)));
            await host.StopAsync();

            public sealed record Greet(string Name);

            public sealed class GreetHandler(TaskCompletionSource<string> handled) : IJobHandler<Greet>
            {
                public Task HandleAsync(Greet job, JobContext context, CancellationToken cancellationToken)
                {
                    handled.SetResult($"Hello, {job.Name}, from job {context.JobId} on queue {context.Queue}.");
                    return Task.CompletedTask;
                }
            }
            """);

        // The package's own dependencies come from the machine's usual NuGet source, as for any user.
        var output = await LocalFeed.RunAsync(app, "dotnet", "run", "--project", Path.Combine(app, "App.csproj"));

        Assert.Contains("Hello, newcomer, from job ", output, StringComparison.Ordinal);
        Assert.Contains("on queue Greet.", output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static void AssertPackageContents(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/AsyncQueue.dll", entries);
        Assert.Contains("lib/net10.0/AsyncQueue.xml", entries);
        Assert.Contains("README.md", entries);
        using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
        {
            PackageReadmeTests.AssertIsAPackageReadme(readme.ReadToEnd(), "AsyncQueue");
        }

        using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var nuspec = XDocument.Load(nuspecStream);
        XNamespace ns = nuspec.Root!.GetDefaultNamespace();
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("MIT", metadata.Element(ns + "license")?.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
        Assert.StartsWith("https://", metadata.Element(ns + "repository")?.Attribute("url")?.Value, StringComparison.Ordinal);
    }
}
