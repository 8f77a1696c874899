using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Threading.Channels;
using Xunit;

namespace AsyncQueue.Conformance;

/// <summary>
/// The test worker (tests/AsyncQueue.TestWorker) run as a child process: its "@@" lines are read as markers,
/// <see cref="KillAsync"/> sends SIGKILL, and closing its standard input stops it gracefully. Shared by the durable
/// stores' test projects, which build the worker first (a project reference without its assembly).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly string WorkerPath = typeof(ChildProcess).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "TestWorkerPath").Value!;

    private readonly Process _process;
    private readonly Channel<string> _markers = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _errors = new();

    private ChildProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Gets the process id.</summary>
    public int Id => _process.Id;

    /// <summary>
    /// Polls until <paramref name="condition"/> holds, failing at once with a child's standard error if one exits. The
    /// five-minute limit only turns a hang into a failure; it times nothing.
    /// </summary>
    /// <param name="condition">What to wait for.</param>
    /// <param name="what">The condition, for the failure message.</param>
    /// <param name="children">The child processes that must keep running meanwhile.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, IReadOnlyList<ChildProcess> children)
    {
        var deadline = Environment.TickCount64 + (long)TimeSpan.FromMinutes(5).TotalMilliseconds;
        while (!await condition())
        {
            if (children.FirstOrDefault(c => c.HasExited) is { } dead)
            {
                Assert.Fail($"A child process exited while waiting until {what}. Its standard error:\n{dead.Errors}");
            }

            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Gave up waiting until {what}. Standard error of the children:\n{string.Join("\n---\n", children.Select(c => c.Errors))}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Gets a value indicating whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts the worker with <paramref name="arguments"/> (a command, then its options; see its Program.cs).</summary>
    /// <param name="arguments">The command line.</param>
    /// <returns>The running child.</returns>
    public static ChildProcess Start(params string[] arguments)
    {
        if (!File.Exists(WorkerPath))
        {
            throw new FileNotFoundException($"The test worker was not built at '{WorkerPath}'.", WorkerPath);
        }

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(WorkerPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._markers.Writer.TryComplete();
            }
            else if (e.Data.StartsWith("@@", StringComparison.Ordinal))
            {
                child._markers.Writer.TryWrite(e.Data[2..]);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._errors)
                {
                    child._errors.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the next marker that starts with <paramref name="prefix"/>, skipping others. The limit only turns a hang into a failure.</summary>
    /// <param name="prefix">The start of the marker, after "@@".</param>
    /// <returns>The marker, without "@@".</returns>
    public async Task<string> WaitForMarkerAsync(string prefix)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await foreach (var marker in _markers.Reader.ReadAllAsync(limit.Token))
            {
                if (marker.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return marker;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Fail($"The child process never printed '@@{prefix}...'. Its standard error:\n{Errors}");
        return "";
    }

    /// <summary>SIGKILL: the process dies at once, mid-write if it must, with no chance to clean up.</summary>
    /// <returns>A task that completes when the process is gone.</returns>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
    }

    /// <summary>Closes standard input, which stops the child's host gracefully, and waits for it to exit.</summary>
    /// <returns>A task that completes when the child exited with code 0.</returns>
    public async Task StopAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(_process.ExitCode == 0, $"The child exited with {_process.ExitCode}. Its standard error:\n{Errors}");
    }

    /// <summary>Gets what the child wrote to standard error so far (its logs).</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Kills the child if it still runs.</summary>
    /// <returns>A task that completes when it is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
