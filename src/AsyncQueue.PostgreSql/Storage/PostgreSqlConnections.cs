using System.Data.Common;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Builds the store's own connection pools from the application's connection string.</summary>
internal static class PostgreSqlConnections
{
    /// <summary>The statements the store prepares at most per connection: all of its hot ones, with room to spare.</summary>
    public const int AutoPrepare = 32;

    /// <summary>
    /// The pool for every statement but LISTEN. Unless the connection string says otherwise, it prepares the store's
    /// statements on each connection after their second use (<c>Max Auto Prepare</c>, Npgsql's automatic preparation),
    /// and does not reset a connection's session state each time it goes back to the pool (<c>No Reset On Close</c>).
    /// </summary>
    /// <remarks>
    /// Every statement the store runs is one of a few dozen fixed texts, so on a busy queue the server would otherwise
    /// parse and plan the same lease, insert and completion statements thousands of times a second, and run a
    /// <c>DISCARD ALL</c> before each use of a pooled connection: on a small machine that server CPU is most of the cost of
    /// a job. The reset is not needed because the pool is the store's alone and its statements leave no session state
    /// (transactions end, advisory locks are transaction-scoped, and LISTEN has its own unpooled connection). A
    /// connection string that sets either keyword keeps its value: <c>Max Auto Prepare=0</c> turns preparation off,
    /// as PgBouncer before 1.21 in transaction mode requires.
    /// </remarks>
    public static NpgsqlDataSource CreatePool(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!Mentions(given, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = AutoPrepare;
        }

        if (!Mentions(given, "No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>The LISTEN connection's source: unpooled, so a listening session always ends with its connection.</summary>
    public static NpgsqlDataSource CreateListener(string connectionString) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);

    private static bool Mentions(DbConnectionStringBuilder given, params string[] keywords) =>
        given.Keys.Cast<string>().Any(key => keywords.Any(keyword => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), keyword.Replace(" ", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)));
}
