using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace AsyncQueue.Samples.Tests.WebUpload;

/// <summary>One sample of an instant query: the series' labels (with <c>__name__</c>) and its value.</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Name => Labels["__name__"];
}

/// <summary>One alert of <c>/api/v1/alerts</c>: its name, its state (<c>pending</c> or <c>firing</c>) and its labels.</summary>
public sealed record PrometheusAlert(string Name, string State, IReadOnlyDictionary<string, string> Labels);

/// <summary>
/// A throwaway Prometheus server: the installed <c>prometheus</c> binary (Debian package <c>prometheus</c>) run on
/// 127.0.0.1 with a free port, its config and TSDB in a temp folder, scraping one target every second. Disposing
/// kills it and deletes the folder.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string JobName = "webupload";

    /// <summary>A hang guard for start-up and for each wait: nothing is timed.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly TempFolder _folder;
    private readonly ConcurrentQueue<string> _output;

    private PrometheusServer(Process process, TempFolder folder, ConcurrentQueue<string> output, Uri address)
    {
        _process = process;
        _folder = folder;
        _output = output;
        Client = new HttpClient { BaseAddress = address };
    }

    public HttpClient Client { get; }

    /// <summary>The server's log (Prometheus writes it to stderr), for failure messages.</summary>
    public string Log => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// Starts Prometheus scraping <paramref name="target"/> (<c>host:port</c>) at <paramref name="metricsPath"/> every
    /// second, evaluating the rules of <paramref name="ruleFile"/> (a path) every second when one is given, and waits
    /// until it is ready.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(string target, string metricsPath, string? ruleFile = null)
    {
        var binary = FindTool("prometheus");

        // The free port is found by binding port 0 and letting go, so another process may take it before Prometheus
        // binds it: then Prometheus exits at start and a new port is tried.
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(binary, target, metricsPath, ruleFile, FreeLoopbackPort());
            try
            {
                await server.WaitUntilReadyAsync();
                return server;
            }
            catch (PrometheusExitedException) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Runs an instant query through <c>/api/v1/query</c>; an empty list when nothing matches yet.</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promQl)
    {
        using var response = await Client.GetAsync(new Uri($"/api/v1/query?query={Uri.EscapeDataString(promQl)}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Prometheus answered {(int)response.StatusCode} to '{promQl}': {body}");
        }

        using var json = JsonDocument.Parse(body);
        var samples = new List<PrometheusSample>();
        foreach (var result in json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = result.GetProperty("metric").EnumerateObject().ToDictionary(label => label.Name, label => label.Value.GetString() ?? "");

            // An instant vector's value is [unix time, "value as a string"].
            var value = ParseValue(result.GetProperty("value")[1].GetString()!);
            samples.Add(new PrometheusSample(labels, value));
        }

        return samples;
    }

    /// <summary>A sample's value as Prometheus writes it: a number, <c>NaN</c>, <c>+Inf</c> or <c>-Inf</c> (a histogram quantile past the last bucket).</summary>
    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Polls <paramref name="promQl"/> until its answer satisfies <paramref name="done"/>, and returns that answer. The
    /// limit is a hang guard; on timeout the message carries the last answer, the scrape target's health and last
    /// error, and the server's log.
    /// </summary>
    public async Task<IReadOnlyList<PrometheusSample>> WaitForAsync(string promQl, Func<IReadOnlyList<PrometheusSample>, bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ThrowIfExited();
            var samples = await QueryAsync(promQl);
            if (done(samples))
            {
                return samples;
            }

            if (deadline.Elapsed > HangGuard)
            {
                var seen = samples.Count == 0 ? "no series" : string.Join("; ", samples.Select(s => $"{s.Name}={s.Value}"));
                throw new TimeoutException($"Prometheus never returned what '{promQl}' waited for (last answer: {seen}). Targets: {await TargetsAsync()}{Environment.NewLine}Prometheus log:{Environment.NewLine}{Log}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>The alerts pending or firing now (<c>/api/v1/alerts</c>): each one's name, state and labels.</summary>
    public async Task<IReadOnlyList<PrometheusAlert>> AlertsAsync()
    {
        using var json = JsonDocument.Parse(await Client.GetStringAsync(new Uri("/api/v1/alerts", UriKind.Relative)));
        return [.. json.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(alert =>
        {
            var labels = alert.GetProperty("labels").EnumerateObject().ToDictionary(label => label.Name, label => label.Value.GetString() ?? "");
            return new PrometheusAlert(labels["alertname"], alert.GetProperty("state").GetString()!, labels);
        })];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var exited = new CancellationTokenSource(HangGuard);
            await _process.WaitForExitAsync(exited.Token);
        }
        finally
        {
            _process.Dispose();
            _folder.Dispose();
        }
    }

    /// <summary>
    /// The path of <paramref name="name"/> (<c>prometheus</c>, or <c>promtool</c> from the same Debian package) on
    /// PATH; fails the test when it is missing.
    /// </summary>
    public static string FindTool(string name)
    {
        var paths = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var binary = paths.Select(path => Path.Combine(path, name)).FirstOrDefault(File.Exists);
        if (binary is not null)
        {
            return binary;
        }

        // Never skipped: a missing tool fails the test, in CI and on a developer's machine alike.
        var path = string.Join(Path.PathSeparator, paths);
        var message = Environment.GetEnvironmentVariable("CI") == "true"
            ? $"CI=true and the '{name}' binary is not on PATH ({path}). tools/test.sh installs it (apt-get update && apt-get install -y prometheus) before the tests: check that step ran."
            : $"The '{name}' binary is not on PATH ({path}). These tests run a real Prometheus server and its promtool: install them with 'apt-get install prometheus' (Debian package prometheus; tools/test.sh does it), then run the tests again.";
        Assert.Fail(message);
        throw new UnreachableException();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static PrometheusServer Launch(string binary, string target, string metricsPath, string? ruleFile, int port)
    {
        var folder = new TempFolder();
        var config = Path.Combine(folder.Path, "prometheus.yml");
        var rules = ruleFile is null ? "" : $"rule_files: ['{ruleFile}']";
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            {rules}
            scrape_configs:
              - job_name: {JobName}
                metrics_path: {metricsPath}
                static_configs:
                  - targets: ['{target}']
            """);

        var start = new ProcessStartInfo(binary)
        {
            WorkingDirectory = folder.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--config.file={config}");
        start.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(folder.Path, "data")}");
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Collect(output, e.Data);
        process.ErrorDataReceived += (_, e) => Collect(output, e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            folder.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new PrometheusServer(process, folder, output, new Uri($"http://127.0.0.1:{port}"));
    }

    private static void Collect(ConcurrentQueue<string> output, string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ThrowIfExited();
            try
            {
                using var ready = await Client.GetAsync(new Uri("/-/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > HangGuard)
            {
                throw new TimeoutException($"Prometheus at {Client.BaseAddress} never became ready. Its log:{Environment.NewLine}{Log}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private void ThrowIfExited()
    {
        if (_process.HasExited)
        {
            throw new PrometheusExitedException($"Prometheus exited with code {_process.ExitCode}. Its log:{Environment.NewLine}{Log}");
        }
    }

    private async Task<string> TargetsAsync()
    {
        try
        {
            return await Client.GetStringAsync(new Uri("/api/v1/targets", UriKind.Relative));
        }
        catch (HttpRequestException ex)
        {
            return $"(unavailable: {ex.Message})";
        }
    }

    private sealed class PrometheusExitedException(string message) : Exception(message);
}
