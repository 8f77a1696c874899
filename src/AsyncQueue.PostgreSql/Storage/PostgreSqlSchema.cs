using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>Creates or checks the store's tables in their schema, once per database, whatever the number of processes starting.</summary>
/// <remarks>
/// Times are UTC ticks (<see cref="DateTimeOffset.UtcTicks"/>) from the application's <see cref="TimeProvider"/>, so
/// every process compares the same numbers and tests can drive the clock. The migration runs in one transaction under a
/// transaction-level advisory lock keyed by the schema name: processes starting at once migrate one after the other,
/// and the later ones find the schema already at its version.
/// </remarks>
internal static class PostgreSqlSchema
{
    public const int Version = 4;

    // The waiting state is 0, leased 1, succeeded 2, cancelled 3 (StoredJobStatus; version 3 added the last): a finished
    // row is kept for its status until finished_at is past its queue's FinishedJobRetention, and a succeeded one while
    // it holds its idempotency key (key_held, until key_expires). Only a leased row has a lease_token (a unique fencing
    // token from the fence sequence); every other state change clears it.
    private const string CreateTables = """
        CREATE SCHEMA IF NOT EXISTS {0};
        CREATE TABLE IF NOT EXISTS {0}.meta (key text PRIMARY KEY, value bigint NOT NULL);
        CREATE SEQUENCE IF NOT EXISTS {0}.fence;
        CREATE TABLE IF NOT EXISTS {0}.jobs (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id uuid NOT NULL,
            queue text NOT NULL,
            kind text NOT NULL,
            payload text,
            state smallint NOT NULL,
            run_at bigint NOT NULL,
            attempt integer NOT NULL,
            max_attempts integer,
            enqueued_at bigint NOT NULL,
            idempotency_key text,
            key_held boolean NOT NULL,
            key_expires bigint,
            errors text,
            lease_token bigint,
            lease_expires bigint,
            trace_parent text,
            trace_state text
        );
        CREATE UNIQUE INDEX IF NOT EXISTS jobs_key ON {0}.jobs (idempotency_key) WHERE key_held;
        CREATE INDEX IF NOT EXISTS jobs_due ON {0}.jobs (queue, run_at, seq) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS jobs_leases ON {0}.jobs (lease_expires) WHERE state = 1;
        CREATE INDEX IF NOT EXISTS jobs_retained ON {0}.jobs (key_expires) WHERE state = 2;
        CREATE TABLE IF NOT EXISTS {0}.dead_letters (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id uuid NOT NULL UNIQUE,
            dead_letter_queue text NOT NULL,
            queue text NOT NULL,
            kind text NOT NULL,
            payload text,
            attempt integer NOT NULL,
            max_attempts integer,
            enqueued_at bigint NOT NULL,
            dead_lettered_at bigint NOT NULL,
            idempotency_key text,
            errors text,
            trace_parent text,
            trace_state text
        );
        CREATE INDEX IF NOT EXISTS dead_letters_queue ON {0}.dead_letters (dead_letter_queue, seq);
        CREATE TABLE IF NOT EXISTS {0}.dead_letter_queues (name text PRIMARY KEY, retention bigint NOT NULL, capacity integer NOT NULL);
        INSERT INTO {0}.meta (key, value) VALUES ('schema_version', 1) ON CONFLICT (key) DO NOTHING;
        """;

    // Version 2: whether a job is a suspect of a crash (isolated: leased only one at a time per process), and whether the
    // start of its current attempt was recorded (started: a crash during it is then charged to it). Adding a column with
    // a constant default rewrites no rows. Jobs of version 1 are neither.
    private const string Version2 = """
        ALTER TABLE {0}.jobs ADD COLUMN IF NOT EXISTS isolated boolean NOT NULL DEFAULT false;
        ALTER TABLE {0}.jobs ADD COLUMN IF NOT EXISTS started boolean NOT NULL DEFAULT false;
        CREATE INDEX IF NOT EXISTS jobs_isolated ON {0}.jobs (queue, run_at, seq) WHERE state = 0 AND isolated;
        UPDATE {0}.meta SET value = 2 WHERE key = 'schema_version' AND value < 2;
        """;

    // Version 3: a job's priority (0 low to 3 urgent; a dead letter keeps it for its requeue), when its latest attempt was
    // leased (started_at), when it finished and what it reported (finished_at, result), whether a cancel was requested
    // while it was leased (cancel_requested), and the paused queues. A row that version 2 kept for its key gets its last
    // run time as its finish time. The fetch index (queue, priority, run_at, seq) replaces the due index, serving each
    // lease as one probe per priority level; the key index covers only the rows that hold a key; a job is found by id
    // (status, cancel) and a queue's finished rows that hold no key by their finish time (the sweeper: a row kept for its
    // key is not its to delete, so it costs the sweeper nothing).
    private const string Version3 = """
        ALTER TABLE {0}.jobs
            ADD COLUMN IF NOT EXISTS priority smallint NOT NULL DEFAULT 1,
            ADD COLUMN IF NOT EXISTS started_at bigint,
            ADD COLUMN IF NOT EXISTS finished_at bigint,
            ADD COLUMN IF NOT EXISTS result text,
            ADD COLUMN IF NOT EXISTS cancel_requested boolean NOT NULL DEFAULT false;
        ALTER TABLE {0}.dead_letters ADD COLUMN IF NOT EXISTS priority smallint NOT NULL DEFAULT 1;
        UPDATE {0}.jobs SET finished_at = run_at WHERE state = 2;
        CREATE TABLE IF NOT EXISTS {0}.queues (name text PRIMARY KEY, paused boolean NOT NULL DEFAULT false);
        DROP INDEX IF EXISTS {0}.jobs_due;
        DROP INDEX IF EXISTS {0}.jobs_retained;
        CREATE INDEX IF NOT EXISTS jobs_fetch ON {0}.jobs (queue, priority, run_at, seq) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS jobs_retained ON {0}.jobs (key_expires) WHERE state = 2 AND key_held;
        CREATE INDEX IF NOT EXISTS jobs_finished ON {0}.jobs (queue, finished_at, seq) WHERE state >= 2 AND NOT key_held;
        CREATE INDEX IF NOT EXISTS jobs_id ON {0}.jobs (id);
        UPDATE {0}.meta SET value = 3 WHERE key = 'schema_version' AND value < 3;
        """;

    // The counters of queue-wide rate limits (QueueOptions.RateLimit): one row per queue, holding its newest window and
    // how many of its jobs were leased in it. Not a version step: created by every migration (a new table locks no
    // existing one), so a schema at version 3 gains it without an upgrade, and a later version needs no step for it.
    private const string RateWindows = """
        CREATE TABLE IF NOT EXISTS {0}.rate_windows (queue text PRIMARY KEY, window_index bigint NOT NULL, used integer NOT NULL);
        """;

    // Version 4: continuations. A child awaiting its parents is state -1 (below every range of the other states, so no
    // index or count of them takes it in) with its parents' ids (parent_ids), how many have yet to succeed
    // (pending_parents), what it asks for if one fails (on_parent_failure: 0 cancel, 1 dead-letter) and, once released
    // so, parent_failed. job_parents links each parent still to settle to its child; a parent with links is marked
    // has_children, so its completion alone takes the transaction that releases them. Constant defaults: no row is
    // rewritten, and no row of version 3 is a continuation or has one.
    private const string Version4 = """
        ALTER TABLE {0}.jobs
            ADD COLUMN IF NOT EXISTS parent_ids uuid[],
            ADD COLUMN IF NOT EXISTS pending_parents integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS on_parent_failure smallint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS parent_failed boolean NOT NULL DEFAULT false,
            ADD COLUMN IF NOT EXISTS has_children boolean NOT NULL DEFAULT false;
        CREATE TABLE IF NOT EXISTS {0}.job_parents (parent_id uuid NOT NULL, child_id uuid NOT NULL, PRIMARY KEY (parent_id, child_id));
        UPDATE {0}.meta SET value = 4 WHERE key = 'schema_version' AND value < 4;
        """;

    private const string Lock = "SELECT pg_advisory_xact_lock(hashtextextended('asyncqueue.' || @schema, 0))";

    /// <summary>Creates the schema, or migrates an existing one to <see cref="Version"/>.</summary>
    /// <exception cref="PostgreSqlSchemaVersionException">The schema was created by a newer version of the store.</exception>
    public static async Task MigrateAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using (var command = new NpgsqlCommand(Lock, connection, transaction))
        {
            command.Parameters.AddWithValue("schema", schema);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var version = await ReadVersionAsync(connection, transaction, schema, cancellationToken).ConfigureAwait(false);
        ThrowIfNewer(schema, version);
        foreach (var step in Steps(schema, version))
        {
            using var command = new NpgsqlCommand(step, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="MigrateAsync"/> for the store's start, which runs in its constructor on the host's thread: blocking on
    /// the schema work there is the start, so it is done with the synchronous calls rather than by waiting on a task.
    /// </summary>
    public static void Migrate(NpgsqlConnection connection, string schema)
    {
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand(Lock, connection, transaction))
        {
            command.Parameters.AddWithValue("schema", schema);
            command.ExecuteNonQuery();
        }

        var version = ReadVersion(connection, transaction, schema);
        ThrowIfNewer(schema, version);
        foreach (var step in Steps(schema, version))
        {
            using var command = new NpgsqlCommand(step, connection, transaction);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Checks, without changing anything, that the schema is at <see cref="Version"/>: for a store that does not migrate at start.</summary>
    /// <exception cref="PostgreSqlSchemaVersionException">The schema is missing, or at another version.</exception>
    public static void Check(NpgsqlConnection connection, string schema)
    {
        var version = ReadVersion(connection, null, schema);
        if (version == Version)
        {
            return;
        }

        throw new PostgreSqlSchemaVersionException(
            schema,
            version,
            Version,
            version > Version
                ? NewerMessage(schema, version)
                : $"The PostgreSQL job store's schema '{schema}' is {(version == 0 ? "missing (version 0 found)" : $"at version {version}")}, but this version of AsyncQueue.PostgreSql needs version {Version}, and PostgreSqlStoreOptions.MigrateOnStart is false. Migrate it first: call PostgreSqlJobStoreSchema.MigrateAsync(connectionString, \"{schema}\") from a deployment step or tool (with a user allowed to create tables in the schema), or set MigrateOnStart to true.");
    }

    // The steps past the schema's version, then the rate-limit counters: a new schema is created at version 1 and
    // upgraded like an old one. A schema at its version is otherwise left alone: each step locks the tables it changes (ALTER TABLE takes them exclusively), and the
    // processes starting while others already run must not wait for, or deadlock with, their statements.
    private static IEnumerable<string> Steps(string schema, int version) =>
        new[] { CreateTables, Version2, Version3, Version4 }.Skip(version).Append(RateWindows).Select(step => step.Replace("{0}", schema, StringComparison.Ordinal));

    /// <summary>Whether the schema has the counters of rate limits: a store that does not migrate at start needs them for a queue-wide limit.</summary>
    public static bool HasRateWindows(NpgsqlConnection connection, string schema)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection);
        command.Parameters.AddWithValue("table", schema + ".rate_windows");
        return command.ExecuteScalar() is true;
    }

    private static void ThrowIfNewer(string schema, int version)
    {
        if (version > Version)
        {
            throw new PostgreSqlSchemaVersionException(schema, version, Version, NewerMessage(schema, version));
        }
    }

    /// <summary>The schema's version: 0 when it has no <c>meta</c> table (the schema, or the store's tables, do not exist).</summary>
    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string schema, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection, transaction);
        command.Parameters.AddWithValue("table", schema + ".meta");
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            return 0;
        }

        command.CommandText = VersionQuery(schema);
        command.Parameters.Clear();
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long version ? checked((int)version) : 0;
    }

    private static int ReadVersion(NpgsqlConnection connection, NpgsqlTransaction? transaction, string schema)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection, transaction);
        command.Parameters.AddWithValue("table", schema + ".meta");
        if (command.ExecuteScalar() is not true)
        {
            return 0;
        }

        command.CommandText = VersionQuery(schema);
        command.Parameters.Clear();
        return command.ExecuteScalar() is long version ? checked((int)version) : 0;
    }

    private static string VersionQuery(string schema) => $"SELECT value FROM {schema}.meta WHERE key = 'schema_version'";

    private static string NewerMessage(string schema, int version) =>
        $"The PostgreSQL job store's schema '{schema}' is at version {version}, newer than this version of AsyncQueue.PostgreSql reads ({Version}). Upgrade AsyncQueue.PostgreSql, or set PostgreSqlStoreOptions.Schema to another schema.";
}
