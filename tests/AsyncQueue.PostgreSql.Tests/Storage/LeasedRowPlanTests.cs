using AsyncQueue.PostgreSql.Storage;
using Npgsql;
using NpgsqlTypes;
using Xunit.Abstractions;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// Issue 16: the statements that settle or extend many leases at once (batch completions, heartbeat) find each row by
/// primary key, one array element at a time, whatever the planner believes about how many rows are leased. Planned from
/// statistics that say almost no row is leased (an ANALYZE that ran while the queue was idle) and from statistics that
/// say half the table is, as a generic plan (as a prepared statement is planned after a few runs) and a custom one.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class LeasedRowPlanTests(PostgreSqlServer server, ITestOutputHelper output)
{
    private const int Rows = 100_000;

    public static TheoryData<string, bool> Statements => new()
    {
        { nameof(PostgreSqlStatements.CompleteDeleteMany), true },
        { nameof(PostgreSqlStatements.CompleteDeleteMany), false },
        { nameof(PostgreSqlStatements.CompleteKeep), true },
        { nameof(PostgreSqlStatements.CompleteKeep), false },
        { nameof(PostgreSqlStatements.Heartbeat), true },
        { nameof(PostgreSqlStatements.Heartbeat), false },
    };

    [Theory]
    [MemberData(nameof(Statements))]
    public async Task Plan_ManyLeasedRowsWhateverTheStatistics_FindsEachRowByPrimaryKey(string statement, bool generic)
    {
        var schema = PostgreSqlServer.NewSchema();
        await PostgreSqlJobStoreSchema.MigrateAsync(server.ConnectionString, schema);
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        var sql = (string)typeof(PostgreSqlStatements).GetProperty(statement)!.GetValue(new PostgreSqlStatements(schema))!;

        // Statistics taken while 1 row in 100,000 was leased; then half the table is leased.
        await ExecuteAsync(connection, $"""
            INSERT INTO {schema}.jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, idempotency_key, key_held, lease_token, lease_expires)
            SELECT gen_random_uuid(), 'work', 'WorkJob', '{"{}"}', CASE WHEN g = 1 THEN 1 ELSE 0 END, g, 0, g, 'key-' || g, true, CASE WHEN g = 1 THEN 7 END, CASE WHEN g = 1 THEN 100 END
            FROM generate_series(1, {Rows}) AS g;
            ANALYZE {schema}.jobs;
            UPDATE {schema}.jobs SET state = 1, lease_token = 7, lease_expires = 100 WHERE seq <= {Rows / 2};
            """);
        var stale = await ExplainAsync(connection, sql, generic);
        await ExecuteAsync(connection, $"ANALYZE {schema}.jobs");
        var fresh = await ExplainAsync(connection, sql, generic);
        output.WriteLine($"{statement}, {(generic ? "generic" : "custom")} plan, statistics from an idle queue:\n{stale}\n\nafter ANALYZE with half the rows leased:\n{fresh}");

        foreach (var plan in new[] { stale, fresh })
        {
            Assert.Contains("Function Scan on u", plan, StringComparison.Ordinal);
            Assert.Contains($"Index Scan using jobs_pkey on jobs", plan, StringComparison.Ordinal);
            Assert.Contains("Index Cond: (seq = u.seq)", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("jobs_leases", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("Hash Join", plan, StringComparison.Ordinal);
        }
    }

    private static async Task<string> ExplainAsync(NpgsqlConnection connection, string sql, bool generic)
    {
        await ExecuteAsync(connection, $"SET plan_cache_mode = {(generic ? "force_generic_plan" : "force_custom_plan")}");
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (COSTS OFF) " + sql, connection, transaction);
        var seqs = Enumerable.Range(1, 100).Select(i => (long)(i * 400)).ToArray();
        command.Parameters.Add(new NpgsqlParameter("seqs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = seqs });
        command.Parameters.Add(new NpgsqlParameter("tokens", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = seqs.Select(_ => 7L).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("key_expires", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = seqs.Select(_ => 1L).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("finished_at", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = seqs.Select(_ => 1L).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("result", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = seqs.Select(_ => (string?)null).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("expires", NpgsqlDbType.Bigint) { Value = 200L });
        var lines = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        await transaction.RollbackAsync();
        return string.Join('\n', lines);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
