using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace AsyncQueue.Samples.Tests;

/// <summary>Runs a sample as its page runs it: <c>dotnet run --project samples/&lt;name&gt;</c>, in its own process.</summary>
public static class SampleProcess
{
    /// <summary>
    /// Runs <c>samples/<paramref name="sampleName"/></c> with <paramref name="args"/> from the repository root and waits for it to exit;
    /// past <paramref name="hangGuard"/> the process tree is killed and a <see cref="TimeoutException"/> thrown.
    /// </summary>
    public static async Task<SampleRun> RunAsync(
        string sampleName,
        IReadOnlyList<string> args,
        TimeSpan hangGuard,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(StartInfo(sampleName, args, environment))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(hangGuard);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new SampleRun(process.ExitCode, await output, await error);
    }

    /// <summary>
    /// How <see cref="RunAsync"/> starts <c>samples/<paramref name="sampleName"/></c>, for a caller that runs a server
    /// sample and stops it itself: stdout and stderr redirected as UTF-8, from the repository root.
    /// </summary>
    public static ProcessStartInfo StartInfo(string sampleName, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        // The page's command, on the sample's own build output in the configuration these tests were built in.
        // (Not the copy next to the tests: beside WebUpload it is bound to the ASP.NET Core framework, which the samples do not ask for.)
        var configuration = typeof(SampleProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = RepositoryRoot(),
        };
        foreach (var arg in (string[])["run", "--project", $"samples/{sampleName}", "--no-build", "-c", configuration, "--", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>The folder holding <c>AsyncQueue.sln</c>, found upwards from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "AsyncQueue.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException($"No AsyncQueue.sln above {AppContext.BaseDirectory}.");
    }
}
