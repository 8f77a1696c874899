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
    public const int Version = 1;

    // The waiting state is 0, leased 1, succeeded 2 (kept only for its idempotency key until key_expires).
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

    /// <summary>Creates the schema, or checks that an existing one is at a version this store reads.</summary>
    /// <exception cref="InvalidOperationException">The schema was created by a newer version of the store.</exception>
    public static void Migrate(NpgsqlConnection connection, string schema)
    {
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('asyncqueue.' || @schema, 0))", connection, transaction))
        {
            command.Parameters.AddWithValue("schema", schema);
            command.ExecuteNonQuery();
        }

        using (var command = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection, transaction))
        {
            command.Parameters.AddWithValue("table", schema + ".meta");
            if ((bool)command.ExecuteScalar()!)
            {
                command.CommandText = $"SELECT value FROM {schema}.meta WHERE key = 'schema_version'";
                if (command.ExecuteScalar() is long version && version > Version)
                {
                    throw new InvalidOperationException(
                        $"The PostgreSQL job store's schema '{schema}' is at version {version}, newer than this version of AsyncQueue.PostgreSql reads ({Version}). Upgrade AsyncQueue.PostgreSql, or set PostgreSqlStoreOptions.Schema to another schema.");
                }
            }
        }

        using (var command = new NpgsqlCommand(CreateTables.Replace("{0}", schema, StringComparison.Ordinal), connection, transaction))
        {
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
