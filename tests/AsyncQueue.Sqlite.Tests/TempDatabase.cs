using Microsoft.Data.Sqlite;

namespace AsyncQueue.Sqlite.Tests;

/// <summary>A database file in a fresh temporary folder, deleted afterwards, with raw SQL access to inspect or tamper with it.</summary>
public sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Folder = Path.Combine(Path.GetTempPath(), "asyncqueue-sqlite-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        FilePath = Path.Combine(Folder, "jobs.db");
    }

    public string Folder { get; }

    public string FilePath { get; }

    public string ConnectionString => $"Data Source={FilePath}";

    public long Scalar(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public List<object?[]> Rows(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Writes a job row straight into the table, as a foreign or damaged writer might have left it.</summary>
    public void InsertRawJob(string queue, string kind, string? payload, DateTimeOffset enqueuedAt)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO asyncqueue_jobs (id, queue, kind, payload, state, run_at, attempt, enqueued_at, key_held)
            VALUES ($id, $queue, $kind, $payload, 0, $at, 0, $at, 0)
            """;
        command.Parameters.AddWithValue("$id", Guid.NewGuid().ToByteArray());
        command.Parameters.AddWithValue("$queue", queue);
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$payload", (object?)payload ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", enqueuedAt.UtcTicks);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still be closing the file; the temporary folder is cleaned up by the system.
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={FilePath};Pooling=False");
        connection.Open();
        return connection;
    }
}
