using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AsyncQueue.Benchmarks.Scenarios;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// BullMQ 6.7.0, the Node.js peer of the Redis scenario: runs <c>BullMq/bench.mjs</c> (one warm-up and one measured run,
/// end to end, a Worker of concurrency 2, see the script's header) and reads the JSON line it prints. Not an
/// <see cref="IContender"/>: its producer and workers live in the Node process, which measures itself.
/// </summary>
internal static class BullMqScript
{
    /// <summary>The contender's label in every report.</summary>
    public const string Label = "BullMQ 6.7.0";

    /// <summary>
    /// Installs the script's pinned packages (<c>npm ci</c>, from package-lock.json) unless node_modules is already there.
    /// Before any measurement, so that the download never falls inside a round.
    /// </summary>
    public static async Task EnsureInstalledAsync(TextWriter output)
    {
        var folder = Folder();
        if (Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            return;
        }

        output.WriteLine($"BullMQ: npm ci in {folder}");
        var (exit, _, errors) = await RunAsync("npm", folder, "ci", "--no-audit", "--no-fund");
        if (exit != 0)
        {
            throw new InvalidOperationException($"npm ci failed in {folder} (exit {exit}): {errors}");
        }
    }

    /// <summary>One warm-up and one measured run of <paramref name="jobs"/> jobs against the server at <paramref name="endpoint"/> (<c>host:port</c>).</summary>
    public static async Task<Measure.Result> MeasureAsync(string endpoint, int jobs, bool batched)
    {
        var (exit, lines, errors) = await RunAsync(
            "node", Folder(), "bench.mjs", "--redis", endpoint, "--jobs", jobs.ToString(CultureInfo.InvariantCulture), "--mode", batched ? "batched" : "single");
        var last = lines.LastOrDefault(line => line.StartsWith('{'));
        if (exit != 0 || last is null)
        {
            throw new InvalidOperationException($"node bench.mjs failed (exit {exit}): {errors}");
        }

        using var result = JsonDocument.Parse(last);

        // Bytes per job are not measured in another process.
        return new Measure.Result(result.RootElement.GetProperty("jobsPerSecond").GetDouble(), double.NaN);
    }

    // The script's folder in the source tree (it holds node_modules), found upwards from bin/<configuration>/<tfm>/.
    private static string Folder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "BullMq");
            if (File.Exists(Path.Combine(candidate, "bench.mjs")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"BullMq/bench.mjs not found above {AppContext.BaseDirectory}: run the benchmark from its source tree.");
    }

    private static async Task<(int Exit, List<string> Lines, string Errors)> RunAsync(string program, string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start: is Node.js installed?");

        // A stuck script (a job never processed) must fail the round, as Drive.Patience fails a stuck .NET contender:
        // twice the patience, for the warm-up run and the measured one.
        using var patience = new CancellationTokenSource(Drive.Patience * 2);
        try
        {
            var errors = process.StandardError.ReadToEndAsync(patience.Token);
            var lines = new List<string>();
            while (await process.StandardOutput.ReadLineAsync(patience.Token) is { } line)
            {
                lines.Add(line);
            }

            await process.WaitForExitAsync(patience.Token);
            return (process.ExitCode, lines, await errors);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {Drive.Patience * 2}.");
        }
    }
}
