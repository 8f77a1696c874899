using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AsyncQueue.RabbitMQ.Tests;

/// <summary>
/// A throwaway RabbitMQ node (Debian's <c>rabbitmq-server</c>) on free loopback ports, all its state in a temporary
/// folder: its own node name, AMQP port, distribution port, Erlang cookie (in <c>HOME</c>, shared with the CLI) and its
/// own epmd (on a port of its own, so stopping it touches no other node on the machine). Stopped and deleted on dispose.
/// A node of a <see cref="ThrowawayRabbitMqCluster"/> instead shares the cluster's cookie and epmd, which the cluster
/// owns and stops.
/// </summary>
/// <remarks>
/// The scripts are called from <c>/usr/lib/rabbitmq/bin</c> directly: the <c>/usr/sbin</c> wrappers switch to the
/// <c>rabbitmq</c> user, whose cookie differs. The AMQP listener is set in <c>rabbitmq.conf</c> only: setting
/// <c>RABBITMQ_NODE_PORT</c> as well opens a second listener on the same port, and the node dies with <c>eaddrinuse</c>.
/// </remarks>
public sealed class ThrowawayRabbitMqServer : IAsyncDisposable
{
    /// <summary>Where Debian's package puts the node's scripts.</summary>
    public const string Scripts = "/usr/lib/rabbitmq/bin";

    /// <summary>What to do when the server is missing.</summary>
    public const string MissingMessage =
        "rabbitmq-server (/usr/lib/rabbitmq/bin/rabbitmq-server) is missing: install it with 'apt-get update && apt-get install -y --no-install-recommends rabbitmq-server' (Debian/Ubuntu; tools/test.sh does). The AsyncQueue.RabbitMQ tests start their own throwaway broker and never skip.";

    private readonly bool _ownsEpmd;
    private Process? _process;

    private ThrowawayRabbitMqServer(int? sharedEpmdPort = null, string? cookie = null)
    {
        Port = FreePort();
        DistributionPort = FreePort();
        EpmdPort = sharedEpmdPort ?? FreePort();
        _ownsEpmd = sharedEpmdPort is null;
        Directory.CreateDirectory(Folder);
        if (cookie is not null)
        {
            // Erlang refuses a cookie file that others may read: owner read-only, as the node would create it.
            var cookieFile = Path.Combine(Folder, ".erlang.cookie");
            File.WriteAllText(cookieFile, cookie);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(cookieFile, UnixFileMode.UserRead);
            }
        }

        File.WriteAllText(Path.Combine(Folder, "enabled_plugins"), "[].\n");
        File.WriteAllText(Path.Combine(Folder, "rabbitmq.conf"), string.Create(CultureInfo.InvariantCulture, $"listeners.tcp.default = 127.0.0.1:{Port}\n"));
    }

    /// <summary>Gets the node's temporary folder: its HOME (cookie), data, logs and configuration.</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "asyncqueue-rabbitmq-" + Guid.NewGuid().ToString("N"));

    /// <summary>Gets the loopback port of the AMQP listener.</summary>
    public int Port { get; }

    /// <summary>Gets the Erlang distribution port of the node.</summary>
    public int DistributionPort { get; }

    /// <summary>Gets the port of the node's own epmd.</summary>
    public int EpmdPort { get; }

    /// <summary>Gets the node's name, unique per fixture.</summary>
    public string NodeName => string.Create(CultureInfo.InvariantCulture, $"aq{Port}@localhost");

    /// <summary>Gets the AMQP URI of the node's default <c>guest</c> user (allowed from loopback).</summary>
    public string Uri => string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{Port}/");

    /// <summary>Starts a fresh node and waits until it accepts connections.</summary>
    public static async Task<ThrowawayRabbitMqServer> StartAsync()
    {
        if (!File.Exists(Path.Combine(Scripts, "rabbitmq-server")))
        {
            throw new InvalidOperationException(MissingMessage);
        }

        return await StartOnFreePortsAsync(() => new ThrowawayRabbitMqServer());
    }

    /// <summary>
    /// Starts a node that shares an epmd (already running on <paramref name="epmdPort"/>) and an Erlang cookie with the
    /// other nodes of a cluster; it leaves the epmd alone when disposed.
    /// </summary>
    internal static async Task<ThrowawayRabbitMqServer> StartClusterNodeAsync(int epmdPort, string cookie)
    {
        if (!File.Exists(Path.Combine(Scripts, "rabbitmq-server")))
        {
            throw new InvalidOperationException(MissingMessage);
        }

        return await StartOnFreePortsAsync(() => new ThrowawayRabbitMqServer(epmdPort, cookie));
    }

    /// <summary>
    /// Starts a node made by <paramref name="create"/>, on fresh ports and a fresh folder up to three times. Why: a port
    /// found free is released before the node binds it, and in between another process (a client's outgoing
    /// connection takes an ephemeral port from the same range, and other tests start brokers) may take it; the node
    /// then fails at start with a listener error, which says nothing about the code under test.
    /// </summary>
    private static async Task<ThrowawayRabbitMqServer> StartOnFreePortsAsync(Func<ThrowawayRabbitMqServer> create)
    {
        const int Tries = 3;
        for (var attempt = 1; ; attempt++)
        {
            var server = create();
            try
            {
                await server.StartProcessAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < Tries)
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

    /// <summary>
    /// Kills the node with SIGKILL, with every process it started (the Erlang VM and its helpers): no clean shutdown, no
    /// goodbye to the cluster or the clients, as in a power cut. Returns once they are gone.
    /// </summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            // Process.Kill(entireProcessTree) sends SIGKILL to the process and all its descendants.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Runs <c>rabbitmqctl</c> against this node, for example <c>list_queues name messages</c>; returns its output.</summary>
    public async Task<string> CtlAsync(params string[] arguments)
    {
        var start = Start("rabbitmqctl");
        foreach (var argument in (string[])["-n", NodeName, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var ctl = Process.Start(start)!;
        var output = ctl.StandardOutput.ReadToEndAsync();
        var errors = ctl.StandardError.ReadToEndAsync();
        await ctl.WaitForExitAsync();
        if (ctl.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed ({ctl.ExitCode}): {await errors}{await output}");
        }

        return await output;
    }

    /// <summary>Stops the node (a clean stop: its queues and persistent messages stay on disk) and starts it again on the same ports and folder.</summary>
    public async Task RestartAsync()
    {
        await CtlAsync("stop");
        if (_process is { } process)
        {
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }

        await StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            try
            {
                await CtlAsync("stop");
            }
            catch (InvalidOperationException)
            {
            }

            if (!_process.WaitForExit(60_000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process?.Dispose();
        _process = null;

        // The node's own epmd (ERL_EPMD_PORT): told to stop by its port, so no other node's epmd is touched. A cluster's
        // nodes share one, which the cluster stops.
        if (_ownsEpmd)
        {
            await KillEpmdAsync(EpmdPort);
        }

        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    private async Task StartProcessAsync()
    {
        var start = Start("rabbitmq-server");
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // 'rabbitmqctl wait' returns once the node's applications run (about 5 s here; more while a benchmark runs).
        try
        {
            await CtlAsync("wait", Path.Combine(Folder, "pid"), "--timeout", "300");
        }
        catch (InvalidOperationException ex)
        {
            var log = Path.Combine(Folder, "log", NodeName + ".log");
            throw new InvalidOperationException($"rabbitmq-server did not start on port {Port}: {ex.Message} {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "no log")}", ex);
        }
    }

    /// <summary>A script of the node (or a program by path) with this node's environment, at the lowest CPU priority.</summary>
    private ProcessStartInfo Start(string program)
    {
        // nice -n 19: the node shares a small machine with benchmark runs.
        var start = new ProcessStartInfo("nice") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add("19");
        start.ArgumentList.Add(program.StartsWith('/') ? program : Path.Combine(Scripts, program));
        var environment = start.Environment;
        environment["HOME"] = Folder;
        environment["ERL_EPMD_PORT"] = EpmdPort.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_NODENAME"] = NodeName;
        environment["RABBITMQ_DIST_PORT"] = DistributionPort.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(Folder, "mnesia");
        environment["RABBITMQ_LOG_BASE"] = Path.Combine(Folder, "log");
        environment["RABBITMQ_PID_FILE"] = Path.Combine(Folder, "pid");
        environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(Folder, "enabled_plugins");
        environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(Folder, "rabbitmq");
        return start;
    }

    /// <summary>Stops the epmd listening on <paramref name="epmdPort"/> (and only that one).</summary>
    internal static async Task KillEpmdAsync(int epmdPort)
    {
        using var kill = Process.Start(Epmd(epmdPort, "-kill"))!;
        await kill.WaitForExitAsync();
    }

    /// <summary><c>epmd</c> with <paramref name="arguments"/>, on <paramref name="epmdPort"/>, its output swallowed.</summary>
    internal static ProcessStartInfo Epmd(int epmdPort, params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/epmd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ERL_EPMD_PORT"] = epmdPort.ToString(CultureInfo.InvariantCulture);
        return start;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
