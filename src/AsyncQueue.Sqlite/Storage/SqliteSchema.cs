using Microsoft.Data.Sqlite;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>Opens the database file, checks that it is a writable SQLite database, and creates or checks the tables.</summary>
/// <remarks>
/// Tables are prefixed <c>asyncqueue_</c> so the store can share a file with the application's own tables. Times are
/// UTC ticks (<see cref="DateTimeOffset.UtcTicks"/>), ids are 16-byte blobs.
/// </remarks>
internal static class SqliteSchema
{
    /// <summary>
    /// The schema this package writes. Version 2 added the <c>isolated</c> and <c>started</c> columns of a job; version 3
    /// a job's priority, the times and result kept with its status, cancellation, and the paused queues; version 4 the
    /// continuations (a parent's id, the policy if it fails, and whether it did).
    /// </summary>
    public const int Version = 4;

    /// <summary>The write-ahead log's size, in pages, at which the writer checkpoints itself if the checkpointer fell behind.</summary>
    public const int BackstopCheckpointPages = 10_000;

    // The waiting state is 0, leased 1, succeeded 2, cancelled 3 (StoredJobStatus): a finished row is kept for its
    // status until finished_at is past its queue's FinishedJobRetention, and a succeeded one while it holds its
    // idempotency key (key_held, until key_expires). isolated: a suspect of a crash, leased alone (see
    // IJobStore.OpenConsumer); a continuation awaiting its parent is state -1 (below every range of the other states)
    // with parent_id set, made due in the transaction that settles the parent, with parent_failed if it failed; started: the start of the leased attempt was recorded (IJobStore.MarkStartedAsync), so a
    // crash during it is charged to it; started_at: when the latest attempt was leased. cancel_requested: a cancel came
    // while the job was leased; the holder's heartbeat tells its record. Indexes on columns that version 3 added are
    // made in CreateLateIndexes, after the upgrades. asyncqueue_rate_windows: how many jobs of a rate-limited queue
    // were leased in its current window (QueueOptions.RateLimit), by every process on the file; created by IF NOT EXISTS
    // on a file of any version, so it needs no upgrade step.
    private const string CreateTables = """
        CREATE TABLE IF NOT EXISTS asyncqueue_meta (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO asyncqueue_meta (key, value) VALUES ('schema_version', 4), ('fence', 0);

        CREATE TABLE IF NOT EXISTS asyncqueue_jobs (
            seq INTEGER PRIMARY KEY,
            id BLOB NOT NULL,
            queue TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT,
            state INTEGER NOT NULL,
            run_at INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            max_attempts INTEGER,
            enqueued_at INTEGER NOT NULL,
            idempotency_key TEXT,
            key_held INTEGER NOT NULL,
            key_expires INTEGER,
            errors TEXT,
            lease_token INTEGER,
            lease_expires INTEGER,
            trace_parent TEXT,
            trace_state TEXT,
            isolated INTEGER NOT NULL DEFAULT 0,
            started INTEGER NOT NULL DEFAULT 0,
            priority INTEGER NOT NULL DEFAULT 1,
            started_at INTEGER,
            finished_at INTEGER,
            result TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            parent_id BLOB,
            on_parent_failure INTEGER NOT NULL DEFAULT 0,
            parent_failed INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX IF NOT EXISTS asyncqueue_jobs_key ON asyncqueue_jobs (idempotency_key) WHERE key_held = 1;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_leases ON asyncqueue_jobs (lease_expires) WHERE state = 1;

        CREATE TABLE IF NOT EXISTS asyncqueue_dead_letters (
            seq INTEGER PRIMARY KEY,
            id BLOB NOT NULL,
            dead_letter_queue TEXT NOT NULL,
            queue TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT,
            attempt INTEGER NOT NULL,
            max_attempts INTEGER,
            enqueued_at INTEGER NOT NULL,
            dead_lettered_at INTEGER NOT NULL,
            idempotency_key TEXT,
            errors TEXT,
            trace_parent TEXT,
            trace_state TEXT,
            priority INTEGER NOT NULL DEFAULT 1
        );
        CREATE UNIQUE INDEX IF NOT EXISTS asyncqueue_dead_letters_id ON asyncqueue_dead_letters (id);
        CREATE INDEX IF NOT EXISTS asyncqueue_dead_letters_queue ON asyncqueue_dead_letters (dead_letter_queue, seq);

        CREATE TABLE IF NOT EXISTS asyncqueue_dead_letter_queues (
            name TEXT PRIMARY KEY,
            retention INTEGER NOT NULL,
            capacity INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS asyncqueue_queues (
            name TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS asyncqueue_rate_windows (
            queue TEXT PRIMARY KEY,
            window_index INTEGER NOT NULL,
            used INTEGER NOT NULL
        ) WITHOUT ROWID;
        """;

    /// <summary>
    /// The steps from each older version to the next, run in the transaction that opens the file: index <c>i</c> upgrades
    /// version <c>i + 1</c>. A table made by an older package keeps its rows; new columns take their defaults.
    /// </summary>
    private static readonly string[] Upgrades =
    [
        // 1 -> 2: isolated suspects and recorded starts.
        """
        ALTER TABLE asyncqueue_jobs ADD COLUMN isolated INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE asyncqueue_jobs ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
        """,

        // 2 -> 3: priorities, status retention, cancellation, paused queues. A row that version 2 kept for its key gets
        // its last run time as its finish time. The due index gives way to the fetch index (queue, priority DESC, run_at),
        // and the key index covers only the rows that hold a key.
        """
        ALTER TABLE asyncqueue_jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE asyncqueue_jobs ADD COLUMN started_at INTEGER;
        ALTER TABLE asyncqueue_jobs ADD COLUMN finished_at INTEGER;
        ALTER TABLE asyncqueue_jobs ADD COLUMN result TEXT;
        ALTER TABLE asyncqueue_jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE asyncqueue_dead_letters ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
        UPDATE asyncqueue_jobs SET finished_at = run_at WHERE state = 2;
        DROP INDEX IF EXISTS asyncqueue_jobs_due;
        DROP INDEX IF EXISTS asyncqueue_jobs_retained;
        """,

        // 3 -> 4: continuations. No row of version 3 is one.
        """
        ALTER TABLE asyncqueue_jobs ADD COLUMN parent_id BLOB;
        ALTER TABLE asyncqueue_jobs ADD COLUMN on_parent_failure INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE asyncqueue_jobs ADD COLUMN parent_failed INTEGER NOT NULL DEFAULT 0;
        """,
    ];

    // Indexes on columns that an upgrade may have added, so created after the upgrades. The fetch index serves each
    // lease as one range per priority level, most urgent first (priority DESC; see SqliteStatements.Lease); the rowid
    // (seq) orders equal run times. The
    // finished index holds only the rows the sweeper may delete (no key held), so rows kept for their keys cost it nothing.
    private const string CreateLateIndexes = """
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_isolated ON asyncqueue_jobs (queue, run_at) WHERE state = 0 AND isolated = 1;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_fetch ON asyncqueue_jobs (queue, priority DESC, run_at) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_retained ON asyncqueue_jobs (key_expires) WHERE state = 2 AND key_held = 1;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_finished ON asyncqueue_jobs (queue, finished_at) WHERE state >= 2 AND key_held = 0;
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_id ON asyncqueue_jobs (id);
        CREATE INDEX IF NOT EXISTS asyncqueue_jobs_parent ON asyncqueue_jobs (parent_id) WHERE state = -1;
        """;

    /// <summary>Opens a connection with the store's settings; for the writer, also creates or checks the schema.</summary>
    /// <exception cref="InvalidOperationException">The file is not a SQLite database, cannot be written, or has a newer schema.</exception>
    public static SqliteConnection Open(string connectionString, SqliteSynchronousMode synchronous, bool createSchema)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            // A writer of another process holds the lock for one short transaction at a time: wait for it, up to 30 s.
            // The writer checkpoints only as a backstop (the checkpointer keeps the log short), so commits rarely wait for the disk.
            Execute(connection, $"PRAGMA busy_timeout = 30000; PRAGMA synchronous = {(synchronous == SqliteSynchronousMode.Full ? "FULL" : "NORMAL")}; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = {(createSchema ? BackstopCheckpointPages : 1000)};");
            if (createSchema)
            {
                var mode = Scalar(connection, "PRAGMA journal_mode = WAL;") as string;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"The SQLite job store could not switch '{dataSource}' to write-ahead logging (journal_mode is '{mode}'). Use a file on a local disk that supports shared memory.");
                }

                Execute(connection, "BEGIN IMMEDIATE;");
                try
                {
                    Execute(connection, CreateTables);
                    var version = (long)Scalar(connection, "SELECT value FROM asyncqueue_meta WHERE key = 'schema_version';")!;
                    if (version > Version)
                    {
                        throw new InvalidOperationException(
                            $"The SQLite job store cannot use '{dataSource}': its tables were made by a newer AsyncQueue.Sqlite (schema version {version}, this one knows {Version}). Upgrade the package.");
                    }

                    // Another process opening the file waits for this transaction (BEGIN IMMEDIATE), then sees the new version.
                    for (; version < Version; version++)
                    {
                        Execute(connection, Upgrades[version - 1]);
                    }

                    Execute(connection, CreateLateIndexes);
                    Execute(connection, $"UPDATE asyncqueue_meta SET value = {Version} WHERE key = 'schema_version';");
                    Execute(connection, "COMMIT;");
                }
                catch
                {
                    TryRollback(connection);
                    throw;
                }
            }

            return connection;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw Explain(ex, dataSource);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void TryRollback(SqliteConnection connection)
    {
        try
        {
            Execute(connection, "ROLLBACK;");
        }
        catch (SqliteException)
        {
            // SQLite may have rolled back already; the original error is what matters.
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Turns SQLite's error code into a message that says what is wrong with the file and what to do.</summary>
    private static InvalidOperationException Explain(SqliteException ex, string dataSource)
    {
        var problem = ex.SqliteErrorCode switch
        {
            26 => "the file is not a SQLite database (it may be another kind of file, or encrypted). Point the connection string at a new file or an existing SQLite database",
            11 => "the database file is corrupt. Restore it from a backup or point the connection string at a new file",
            8 => "the database is read-only (the file, its directory, or the connection string forbids writing). The job store needs write access to the file and to its directory, where SQLite keeps the -wal and -shm files",
            14 => "the file cannot be opened (its directory may not exist, or access is denied). Create the directory and grant write access to it",
            23 => "access to the file was denied. Grant the process read and write access to the file and its directory",
            _ => $"SQLite failed with error {ex.SqliteErrorCode}: {ex.Message}",
        };
        return new InvalidOperationException($"The SQLite job store cannot use '{dataSource}': {problem}.", ex);
    }
}
