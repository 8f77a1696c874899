using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests;

/// <summary>
/// A throwaway PostgreSQL server for the test run: <c>initdb</c> into a temporary folder as the <c>postgres</c> user,
/// <c>pg_ctl start</c> on a free loopback port (its unix socket in the same folder), one database, and everything
/// stopped and deleted afterwards. Shared by every test class of the <see cref="PostgreSqlCollection"/>.
/// </summary>
/// <remarks>Missing binaries fail every test loudly, with what to install; the tests never skip.</remarks>
public sealed class PostgreSqlServer : IAsyncLifetime
{
    private const string Database = "asyncqueue_tests";
    private string? _binaries;

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "asyncqueue-pg-tests-" + Guid.NewGuid().ToString("N"));

    public int Port { get; private set; }

    /// <summary>Gets the connection string of the test database, over TCP on loopback.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database={Database};Username=postgres;Pooling=true;Maximum Pool Size=50";

    /// <summary>A fresh schema name per store, so tests never see each other's jobs.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        _binaries = FindBinaries();
        var data = Path.Combine(Folder, "data");
        Directory.CreateDirectory(Folder);
        Run("chown", "-R", "postgres:postgres", Folder);
        RunAsPostgres(Path.Combine(_binaries, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync");
        Port = FreePort();
        var options = string.Create(CultureInfo.InvariantCulture, $"-c listen_addresses=127.0.0.1 -p {Port} -k {Folder} -c fsync=off -c max_connections=300 -c shared_buffers=64MB");
        RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", data, "-l", Path.Combine(Folder, "server.log"), "-o", options, "-w", "-t", "60", "start");
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Database=postgres;Username=postgres;Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
        await command.ExecuteNonQueryAsync();
    }

    public Task DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            if (_binaries is not null && Port != 0)
            {
                RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", Path.Combine(Folder, "data"), "-m", "immediate", "-w", "stop");
            }
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops the server (fast: open connections are cut) and starts it again on the same port.</summary>
    public void Restart(TimeSpan downFor)
    {
        var data = Path.Combine(Folder, "data");
        RunAsPostgres(Path.Combine(_binaries!, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop");
        Thread.Sleep(downFor);
        var options = string.Create(CultureInfo.InvariantCulture, $"-c listen_addresses=127.0.0.1 -p {Port} -k {Folder} -c fsync=off -c max_connections=300 -c shared_buffers=64MB");
        RunAsPostgres(Path.Combine(_binaries!, "pg_ctl"), "-D", data, "-l", Path.Combine(Folder, "server.log"), "-o", options, "-w", "-t", "60", "start");
    }

    private static string FindBinaries()
    {
        var root = "/usr/lib/postgresql";
        var found = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (found is not null)
        {
            return found;
        }

        throw new InvalidOperationException(
            Environment.GetEnvironmentVariable("CI") == "true"
                ? "The PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb) are missing, though .ci/run should have installed them (apt-get install postgresql): check its install step."
                : "The PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb) are missing: install them with 'apt-get update && apt-get install -y --no-install-recommends postgresql' (Debian/Ubuntu). The AsyncQueue.PostgreSql tests start their own throwaway server and never skip.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // PostgreSQL refuses to run as root: run its tools as the postgres user the Debian package creates.
    private static void RunAsPostgres(params string[] command)
    {
        if (Environment.UserName == "postgres")
        {
            Run(command[0], command[1..]);
        }
        else
        {
            Run("runuser", ["-u", "postgres", "--", .. command]);
        }
    }

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}: {error} {output.Result}");
        }
    }
}

/// <summary>The test classes that share one <see cref="PostgreSqlServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlServerGroup : ICollectionFixture<PostgreSqlServer>
{
    public const string Name = "PostgreSQL server";
}
