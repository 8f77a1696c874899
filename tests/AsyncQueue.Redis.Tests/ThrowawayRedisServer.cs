using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Tests;

/// <summary>
/// A throwaway <c>redis-server</c> (Debian's package) on a free loopback port, its data in a temporary folder, with the
/// append-only file fsynced on every write (<c>appendfsync always</c>); stopped and deleted on dispose.
/// </summary>
public sealed class ThrowawayRedisServer : IAsyncDisposable
{
    /// <summary>Where Debian's package puts the server.</summary>
    public const string Binary = "/usr/bin/redis-server";

    /// <summary>What to do when the server is missing.</summary>
    public const string MissingMessage =
        "redis-server (/usr/bin/redis-server) is missing: install it with 'apt-get update && apt-get install -y redis-server' (Debian/Ubuntu; tools/test.sh does). The AsyncQueue.Redis tests start their own throwaway server and never skip.";

    private readonly string[] _settings;
    private Process? _process;

    private ThrowawayRedisServer(string[] settings)
    {
        _settings = settings;
        Port = FreePort();
        Directory.CreateDirectory(Folder);
    }

    /// <summary>Gets the server's temporary folder: its append-only file and log.</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "asyncqueue-redis-" + Guid.NewGuid().ToString("N"));

    /// <summary>Gets the loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>Gets the StackExchange.Redis configuration string of the server.</summary>
    public string Configuration => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>Starts a fresh server; <paramref name="settings"/> are extra command-line settings, for example <c>--requirepass</c>, <c>secret</c>.</summary>
    public static async Task<ThrowawayRedisServer> StartAsync(params string[] settings)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException(MissingMessage);
        }

        var server = new ThrowawayRedisServer(settings);
        try
        {
            await server.StartProcessAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the server (SIGKILL: no shutdown save) and starts it again on the same port and folder, from its append-only file.</summary>
    public async Task CrashAndRestartAsync(TimeSpan downFor)
    {
        Kill();
        await Task.Delay(downFor);
        await StartProcessAsync();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }

        return default;
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Folder, "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--logfile", Path.Combine(Folder, "redis.log"), .. _settings])
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Ready when it answers; a server that asks for a password answers NOAUTH, which is an answer too.
        var deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer);
                var reply = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
                if (reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.Contains("NOAUTH", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }

            if (_process.HasExited || Environment.TickCount64 > deadline)
            {
                var log = Path.Combine(Folder, "redis.log");
                throw new InvalidOperationException($"redis-server did not start on port {Port}: {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "no log")}");
            }

            await Task.Delay(20);
        }
    }

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A client connection for a test's own look at the keys.</summary>
    public ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect(Configuration);
}
