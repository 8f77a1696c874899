using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// A throwaway PostgreSQL server on this machine for the PostgreSQL scenario: <c>initdb</c> into a temporary folder as
/// the <c>postgres</c> user, <c>pg_ctl start</c> on a free loopback port, one database; stopped and deleted on dispose.
/// </summary>
/// <remarks>
/// <para>
/// Unlike the store tests' server (which turns <c>fsync</c> off for speed), this one runs with PostgreSQL's durable
/// defaults (<c>fsync</c> and <c>synchronous_commit</c> on): the figures are those of a real deployment's commits.
/// </para>
/// <para>
/// The tests' <c>tests/AsyncQueue.PostgreSql.Tests/PostgreSqlServer.cs</c> is an xunit fixture (<c>IAsyncLifetime</c>,
/// a collection definition) that never skips, so it is not linked here.
/// </para>
/// </remarks>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    private const string Database = "asyncqueue_bench";
    private readonly string _binaries;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "asyncqueue-pg-bench-" + Guid.NewGuid().ToString("N"));
    private int _port;

    private readonly bool _synchronousCommit;

    private PostgreSqlServer(string binaries, bool synchronousCommit)
    {
        _binaries = binaries;
        _synchronousCommit = synchronousCommit;
    }

    /// <summary>Gets the connection string of the benchmark database, over TCP on loopback.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={_port};Database={Database};Username=postgres;Maximum Pool Size=50");

    /// <summary>Gets the PostgreSQL version the server reports, for the reports.</summary>
    public string Version { get; private set; } = "";

    /// <summary>Gets the server binaries' folder (<c>/usr/lib/postgresql/&lt;version&gt;/bin</c>), or <see langword="null"/> when PostgreSQL is not installed.</summary>
    public static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
    }

    /// <summary>What to do when <see cref="FindBinaries"/> finds nothing.</summary>
    public const string MissingMessage =
        "The PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb) are missing: install them with 'apt-get update && apt-get install -y --no-install-recommends postgresql' (Debian/Ubuntu; .ci/run does). The PostgreSQL scenario starts its own throwaway server.";

    /// <summary>Creates, starts and opens a fresh server.</summary>
    /// <param name="synchronousCommit">
    /// <see langword="true"/> (PostgreSQL's default): every commit waits for its WAL flush. <see langword="false"/>:
    /// the server runs with <c>synchronous_commit = off</c>, so a commit survives the applications crashing but a
    /// crash of the server or the machine may undo the last few hundred milliseconds of commits (never corrupts):
    /// the promise of the SQLite store's default <c>synchronous NORMAL</c>.
    /// </param>
    /// <exception cref="InvalidOperationException">PostgreSQL is not installed, or the server did not start.</exception>
    public static async Task<PostgreSqlServer> StartAsync(bool synchronousCommit = true)
    {
        var server = new PostgreSqlServer(FindBinaries() ?? throw new InvalidOperationException(MissingMessage), synchronousCommit);
        try
        {
            await server.InitializeAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        var data = Path.Combine(_folder, "data");
        Directory.CreateDirectory(_folder);
        Run("chown", "-R", "postgres:postgres", _folder);
        RunAsPostgres(Path.Combine(_binaries, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync");
        _port = FreePort();
        var options = string.Create(CultureInfo.InvariantCulture, $"-c listen_addresses=127.0.0.1 -p {_port} -k {_folder}{(_synchronousCommit ? "" : " -c synchronous_commit=off")}");
        RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", data, "-l", Path.Combine(_folder, "server.log"), "-o", options, "-w", "-t", "60", "start");
        await using var connection = new NpgsqlConnection(string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={_port};Database=postgres;Username=postgres;Pooling=false"));
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var version = new NpgsqlCommand("SELECT current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit')", connection);
        Version = (string)(await version.ExecuteScalarAsync())!;
    }

    /// <summary>Stops the server (immediately) and deletes its folder.</summary>
    public ValueTask DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            if (_port != 0)
            {
                RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop");
            }
        }
        finally
        {
            if (Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }
        }

        return default;
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
