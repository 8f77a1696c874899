using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AsyncQueue.PostgreSql.Testing;

/// <summary>
/// A throwaway PostgreSQL server on this machine: <c>initdb</c> into a temporary folder as the <c>postgres</c> user,
/// <c>pg_ctl start</c> on a free loopback port (its unix socket in the same folder), one database; stopped and deleted
/// on dispose.
/// </summary>
/// <remarks>
/// The one copy of this code: the store tests wrap it in their xunit fixture (<c>PostgreSqlServer</c>), and the
/// benchmarks project compiles this file in through a link, so it must stay free of xunit. Each caller chooses the
/// server settings: the tests turn <c>fsync</c> off for speed, the benchmarks keep PostgreSQL's durable defaults.
/// </remarks>
internal sealed class ThrowawayPostgreSqlServer : IAsyncDisposable
{
    /// <summary>What to do when <see cref="FindBinaries"/> finds nothing.</summary>
    public const string MissingMessage =
        "The PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb) are missing: install them with 'apt-get update && apt-get install -y --no-install-recommends postgresql' (Debian/Ubuntu; .ci/run does).";

    private readonly string _binaries;
    private readonly string _database;
    private readonly string _options;

    private ThrowawayPostgreSqlServer(string binaries, string database, IEnumerable<string> settings)
    {
        _binaries = binaries;
        _database = database;
        Port = FreePort();
        _options = string.Create(CultureInfo.InvariantCulture, $"-c listen_addresses=127.0.0.1 -p {Port} -k {Folder}") + string.Concat(settings.Select(s => " -c " + s));
    }

    /// <summary>Gets the server's temporary folder: its data directory, log and unix socket.</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "asyncqueue-pg-" + Guid.NewGuid().ToString("N"));

    /// <summary>Gets the loopback TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>Gets the connection string of the server's database, over TCP on loopback.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Database={_database};Username=postgres;Maximum Pool Size=50");

    /// <summary>Gets the version the server reports, with its <c>fsync</c> and <c>synchronous_commit</c> settings.</summary>
    public string Version { get; private set; } = "";

    private string Data => Path.Combine(Folder, "data");

    /// <summary>Gets the server binaries' folder (<c>/usr/lib/postgresql/&lt;version&gt;/bin</c>), or <see langword="null"/> when PostgreSQL is not installed.</summary>
    public static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
    }

    /// <summary>Creates and starts a fresh server with one database.</summary>
    /// <param name="database">The database to create.</param>
    /// <param name="settings">Server settings passed as <c>-c name=value</c>, for example <c>fsync=off</c>.</param>
    /// <exception cref="InvalidOperationException">PostgreSQL is not installed (<see cref="MissingMessage"/>), or the server did not start.</exception>
    public static async Task<ThrowawayPostgreSqlServer> StartAsync(string database, params IEnumerable<string> settings)
    {
        var server = new ThrowawayPostgreSqlServer(FindBinaries() ?? throw new InvalidOperationException(MissingMessage), database, settings);
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

    /// <summary>Stops the server (fast: open connections are cut) and starts it again on the same port.</summary>
    public void Restart(TimeSpan downFor)
    {
        RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", Data, "-m", "fast", "-w", "stop");
        Thread.Sleep(downFor);
        Start();
    }

    /// <summary>Stops the server (immediately) and deletes its folder.</summary>
    public ValueTask DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
            {
                RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop");
            }
        }
        finally
        {
            if (Directory.Exists(Folder))
            {
                Directory.Delete(Folder, recursive: true);
            }
        }

        return default;
    }

    private async Task InitializeAsync()
    {
        Directory.CreateDirectory(Folder);
        Run("chown", "-R", "postgres:postgres", Folder);
        RunAsPostgres(Path.Combine(_binaries, "initdb"), "-D", Data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync");
        Start();
        await using var connection = new NpgsqlConnection(string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Database=postgres;Username=postgres;Pooling=false"));
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {_database}", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var version = new NpgsqlCommand("SELECT current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit')", connection);
        Version = (string)(await version.ExecuteScalarAsync())!;
    }

    private void Start() =>
        RunAsPostgres(Path.Combine(_binaries, "pg_ctl"), "-D", Data, "-l", Path.Combine(Folder, "server.log"), "-o", _options, "-w", "-t", "60", "start");

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
