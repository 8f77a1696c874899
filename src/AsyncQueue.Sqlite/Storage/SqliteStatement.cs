using System.Globalization;
using AsyncQueue.Storage.Durable;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>One prepared SQL statement of a connection, run again and again with new parameter values.</summary>
/// <remarks>
/// <para>
/// Runs on SQLite's own API (SQLitePCLRaw, which Microsoft.Data.Sqlite is built on) over the connection's handle: the
/// statement is compiled once, parameters are bound by position (their indexes looked up once), and each run is a
/// bind, step and reset. On this store's hot path (insert, lease, acknowledge) that is several times cheaper than an
/// ADO.NET command, which looks parameters up by name and allocates a reader on every execution.
/// </para>
/// <para>Values are given in the order of the names passed to the constructor. Not thread-safe: a statement belongs to one connection, used by one thread at a time.</para>
/// </remarks>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int[] _indexes;

    public SqliteStatement(SqliteConnection connection, string sql, params string[] parameterNames)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out _statement));
        _indexes = new int[parameterNames.Length];
        for (var i = 0; i < parameterNames.Length; i++)
        {
            _indexes[i] = raw.sqlite3_bind_parameter_index(_statement, parameterNames[i]);
            if (_indexes[i] == 0)
            {
                throw new ArgumentException($"The statement has no parameter '{parameterNames[i]}': {sql}", nameof(parameterNames));
            }
        }
    }

    /// <summary>Runs the statement to its end; returns how many rows it changed.</summary>
    public int Execute(params ReadOnlySpan<object?> values)
    {
        Bind(values);
        try
        {
            int result;
            while ((result = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
            }

            Check(result, raw.SQLITE_DONE);
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>Runs the statement and returns the first column of its first row, or <see langword="null"/>.</summary>
    public object? Scalar(params ReadOnlySpan<object?> values)
    {
        using var rows = Query(values);
        return rows.Read() ? rows.GetValue(0) : null;
    }

    public long ScalarInt64(params ReadOnlySpan<object?> values) =>
        Scalar(values) is { } value ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;

    /// <summary>Runs the statement; read its rows, then dispose them to reset the statement.</summary>
    public SqliteRows Query(params ReadOnlySpan<object?> values)
    {
        Bind(values);
        return new SqliteRows(this);
    }

    public void Dispose() => _statement.Dispose();

    internal bool Step()
    {
        var result = raw.sqlite3_step(_statement);
        if (result == raw.SQLITE_ROW)
        {
            return true;
        }

        Check(result, raw.SQLITE_DONE);
        return false;
    }

    internal void Reset() => raw.sqlite3_reset(_statement);

    internal sqlite3_stmt Handle => _statement;

    private void Bind(ReadOnlySpan<object?> values)
    {
        if (values.Length != _indexes.Length)
        {
            throw new ArgumentException($"The statement takes {_indexes.Length} value(s), but {values.Length} were given.", nameof(values));
        }

        for (var i = 0; i < values.Length; i++)
        {
            var index = _indexes[i];
            var result = values[i] switch
            {
                null => raw.sqlite3_bind_null(_statement, index),
                long number => raw.sqlite3_bind_int64(_statement, index, number),
                int number => raw.sqlite3_bind_int64(_statement, index, number),
                string text => raw.sqlite3_bind_text(_statement, index, text),
                Guid id => BindGuid(index, id),
                byte[] blob => raw.sqlite3_bind_blob(_statement, index, blob),
                var other => throw new ArgumentException($"Cannot bind a {other.GetType().Name}.", nameof(values)),
            };
            Check(result);
        }
    }

    private int BindGuid(int index, Guid id)
    {
        // The layout of Guid.ToByteArray, as Microsoft.Data.Sqlite stores a Guid.
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        return raw.sqlite3_bind_blob(_statement, index, bytes);
    }

    private void Check(int result, int expected = raw.SQLITE_OK)
    {
        if (result != expected)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), result, raw.sqlite3_extended_errcode(_db));
        }
    }
}

/// <summary>The rows of a running <see cref="SqliteStatement"/>; disposing them resets the statement for its next run.</summary>
internal readonly struct SqliteRows(SqliteStatement statement) : IStoredRowReader, IDisposable
{
    public bool Read() => statement.Step();

    public bool IsDBNull(int column) => raw.sqlite3_column_type(statement.Handle, column) == raw.SQLITE_NULL;

    public long GetInt64(int column) => raw.sqlite3_column_int64(statement.Handle, column);

    public int GetInt32(int column) => raw.sqlite3_column_int(statement.Handle, column);

    public string GetString(int column) => raw.sqlite3_column_text(statement.Handle, column).utf8_to_string() ?? "";

    public bool GetBoolean(int column) => GetInt64(column) != 0;

    /// <summary>Reads an id as this store writes it (16 bytes); an id a foreign writer left in another form reads as text, else as empty.</summary>
    public Guid GetGuid(int column)
    {
        var blob = raw.sqlite3_column_blob(statement.Handle, column);
        if (blob.Length == 16 && raw.sqlite3_column_type(statement.Handle, column) == raw.SQLITE_BLOB)
        {
            return new Guid(blob);
        }

        return Guid.TryParse(IsDBNull(column) ? null : GetString(column), out var parsed) ? parsed : Guid.Empty;
    }

    /// <summary>Reads ids as this store writes a list of them: 16 bytes each, one after another (see <see cref="GetGuid"/>).</summary>
    public Guid[] GetGuids(int column)
    {
        var blob = raw.sqlite3_column_blob(statement.Handle, column);
        var ids = new Guid[blob.Length / 16];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = new Guid(blob.Slice(i * 16, 16));
        }

        return ids;
    }

    public object? GetValue(int column) => raw.sqlite3_column_type(statement.Handle, column) switch
    {
        raw.SQLITE_NULL => null,
        raw.SQLITE_INTEGER => GetInt64(column),
        raw.SQLITE_FLOAT => raw.sqlite3_column_double(statement.Handle, column),
        raw.SQLITE_BLOB => raw.sqlite3_column_blob(statement.Handle, column).ToArray(),
        _ => GetString(column),
    };

    public void Dispose() => statement.Reset();
}
