using AsyncQueue.PostgreSql.Testing;

namespace AsyncQueue.PostgreSql.Tests;

/// <summary>
/// The xunit fixture around a <see cref="ThrowawayPostgreSqlServer"/> for the test run: one server, <c>fsync</c> off
/// for speed, one database, shared by every test class of the <see cref="PostgreSqlServerGroup"/>.
/// </summary>
/// <remarks>Missing binaries fail every test loudly, with what to install; the tests never skip.</remarks>
public sealed class PostgreSqlServer : IAsyncLifetime
{
    private ThrowawayPostgreSqlServer? _server;

    /// <summary>Gets the connection string of the test database, over TCP on loopback.</summary>
    public string ConnectionString => Server.ConnectionString;

    private ThrowawayPostgreSqlServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL test server has not started.");

    /// <summary>A fresh schema name per store, so tests never see each other's jobs.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        if (ThrowawayPostgreSqlServer.FindBinaries() is null)
        {
            throw new InvalidOperationException(
                Environment.GetEnvironmentVariable("CI") == "true"
                    ? "The PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb) are missing, though .ci/run should have installed them (apt-get install postgresql): check its install step."
                    : ThrowawayPostgreSqlServer.MissingMessage + " The AsyncQueue.PostgreSql tests start their own throwaway server and never skip.");
        }

        _server = await ThrowawayPostgreSqlServer.StartAsync("asyncqueue_tests", "fsync=off", "max_connections=300", "shared_buffers=64MB");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Stops the server (fast: open connections are cut) and starts it again on the same port.</summary>
    public void Restart(TimeSpan downFor) => Server.Restart(downFor);
}

/// <summary>The test classes that share one <see cref="PostgreSqlServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlServerGroup : ICollectionFixture<PostgreSqlServer>
{
    public const string Name = "PostgreSQL server";
}
