using Microsoft.Data.Sqlite;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// Every statement the writer runs, prepared once on the writer connection. Each state change of a leased job is
/// conditional on its lease token (<c>lease_token = $token</c>): that is the fencing that keeps a late attempt from
/// overwriting the outcome of a newer one.
/// </summary>
internal sealed class SqliteStatements : IDisposable
{
    // StoredJobRow's columns, then isolated and started (read by StoredJobRow.Read).
    private const string JobColumns = "seq, id, kind, payload, attempt, max_attempts, enqueued_at, run_at, idempotency_key, errors, trace_parent, trace_state, isolated, started";
    private const string DeadLetterColumns = "seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state";

    private readonly List<SqliteStatement> _all = [];

    public SqliteStatements(SqliteConnection connection)
    {
        SqliteStatement Prepare(string sql, params string[] names)
        {
            var statement = new SqliteStatement(connection, sql, names);
            _all.Add(statement);
            return statement;
        }

        Begin = Prepare("BEGIN IMMEDIATE");
        Commit = Prepare("COMMIT");
        Rollback = Prepare("ROLLBACK");

        // Enqueue: the key check and the insert run in one transaction; the unique index on held keys backs it up.
        FindKeyHolder = Prepare("SELECT seq, id, state, key_expires FROM asyncqueue_jobs WHERE idempotency_key = $key AND key_held = 1", "$key");
        DeleteJob = Prepare("DELETE FROM asyncqueue_jobs WHERE seq = $seq", "$seq");
        Insert = Prepare(
            """
            INSERT INTO asyncqueue_jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state)
            VALUES ($id, $queue, $kind, $payload, 0, $run_at, $attempt, $max_attempts, $enqueued_at, $key, $key_held, $errors, $trace_parent, $trace_state)
            """,
            "$id", "$queue", "$kind", "$payload", "$run_at", "$attempt", "$max_attempts", "$enqueued_at", "$key", "$key_held", "$errors", "$trace_parent", "$trace_state");
        CountDue = Prepare("SELECT COUNT(*) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND run_at <= $now", "$queue", "$now");

        // Lease: one fencing token per transaction, from a counter that only grows, shared by every process on the file.
        NextFence = Prepare("UPDATE asyncqueue_meta SET value = value + 1 WHERE key = 'fence' RETURNING value");
        // A new attempt's lease: its start is not recorded yet. Isolated suspects are leased apart, one at a time.
        Lease = Prepare(
            $"""
            UPDATE asyncqueue_jobs SET state = 1, attempt = attempt + 1, started = 0, lease_token = $token, lease_expires = $expires
            WHERE seq IN (SELECT seq FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND run_at <= $now AND isolated = 0 ORDER BY run_at, seq LIMIT $limit)
            RETURNING {JobColumns}
            """,
            "$token", "$expires", "$queue", "$now", "$limit");
        // The oldest due isolated job; with $only_oldest = 1, only if it fell due before every ordinary job waiting, so that
        // a suspect takes its turn by due time instead of waiting for a backlog of newer jobs to drain.
        LeaseIsolated = Prepare(
            $"""
            UPDATE asyncqueue_jobs SET state = 1, attempt = attempt + 1, started = 0, lease_token = $token, lease_expires = $expires
            WHERE seq IN (
                SELECT seq FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND run_at <= $now AND isolated = 1
                AND ($only_oldest = 0 OR run_at < IFNULL((SELECT MIN(run_at) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND isolated = 0), $now + 1))
                ORDER BY run_at, seq LIMIT 1)
            RETURNING {JobColumns}
            """,
            "$token", "$expires", "$queue", "$now", "$only_oldest");

        // $isolated = 0 while the store holds an isolated job: the others are not due for it until that one is settled.
        HasDue = Prepare("SELECT EXISTS (SELECT 1 FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND run_at <= $now AND (isolated = 0 OR $isolated = 1))", "$queue", "$now", "$isolated");
        NextDue = Prepare("SELECT MIN(run_at) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND (isolated = 0 OR $isolated = 1)", "$queue", "$isolated");
        Heartbeat = Prepare("UPDATE asyncqueue_jobs SET lease_expires = $expires WHERE seq = $seq AND lease_token = $token AND state = 1", "$expires", "$seq", "$token");

        // Settle, each fenced by the lease token.
        CompleteDelete = Prepare("DELETE FROM asyncqueue_jobs WHERE seq = $seq AND lease_token = $token AND state = 1", "$seq", "$token");
        CompleteRetainKey = Prepare(
            """
            UPDATE asyncqueue_jobs SET state = 2, payload = NULL, errors = NULL, lease_token = NULL, lease_expires = NULL, key_expires = $key_expires
            WHERE seq = $seq AND lease_token = $token AND state = 1 AND key_held = 1
            """,
            "$key_expires", "$seq", "$token");
        Reschedule = Prepare(
            """
            UPDATE asyncqueue_jobs SET state = 0, run_at = $run_at, attempt = $attempt, errors = $errors, isolated = $isolated, started = 0, lease_token = NULL, lease_expires = NULL
            WHERE seq = $seq AND lease_token = $token AND state = 1
            """,
            "$run_at", "$attempt", "$errors", "$isolated", "$seq", "$token");
        MarkStarted = Prepare("UPDATE asyncqueue_jobs SET started = 1 WHERE seq = $seq AND lease_token = $token AND state = 1", "$seq", "$token");
        Release = Prepare(
            "UPDATE asyncqueue_jobs SET state = 0, attempt = attempt - 1, lease_token = NULL, lease_expires = NULL WHERE seq = $seq AND lease_token = $token AND state = 1",
            "$seq", "$token");
        TakeLeased = Prepare("DELETE FROM asyncqueue_jobs WHERE seq = $seq AND lease_token = $token AND state = 1 RETURNING payload", "$seq", "$token");

        // Rescue: expired leases of the queues this process runs, each taken over under a new token, same attempt.
        ExpiredLeases = Prepare(
            "SELECT seq, queue, lease_token FROM asyncqueue_jobs WHERE state = 1 AND lease_expires <= $now AND queue IN (SELECT value FROM json_each($queues)) ORDER BY lease_expires LIMIT $limit",
            "$now", "$queues", "$limit");
        TakeOver = Prepare(
            $"UPDATE asyncqueue_jobs SET lease_token = $token, lease_expires = $expires WHERE seq = $seq AND lease_token = $old AND state = 1 RETURNING {JobColumns}",
            "$token", "$expires", "$seq", "$old");
        ExpireLease = Prepare("UPDATE asyncqueue_jobs SET lease_expires = 0 WHERE seq = $seq AND lease_token = $token AND state = 1", "$seq", "$token");

        // Sweep.
        EvictExpiredKeys = Prepare("DELETE FROM asyncqueue_jobs WHERE state = 2 AND key_expires <= $now", "$now");
        CountRetainedKeys = Prepare("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 2");
        EvictOldestKeys = Prepare("DELETE FROM asyncqueue_jobs WHERE seq IN (SELECT seq FROM asyncqueue_jobs WHERE state = 2 ORDER BY key_expires LIMIT $count)", "$count");

        // Dead letters.
        InsertDeadLetter = Prepare(
            """
            INSERT OR REPLACE INTO asyncqueue_dead_letters (id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state)
            VALUES ($id, $dlq, $queue, $kind, $payload, $attempt, $max_attempts, $enqueued_at, $dead_lettered_at, $key, $errors, $trace_parent, $trace_state)
            """,
            "$id", "$dlq", "$queue", "$kind", "$payload", "$attempt", "$max_attempts", "$enqueued_at", "$dead_lettered_at", "$key", "$errors", "$trace_parent", "$trace_state");
        UpsertDeadLetterQueue = Prepare(
            "INSERT INTO asyncqueue_dead_letter_queues (name, retention, capacity) VALUES ($name, $retention, $capacity) ON CONFLICT (name) DO UPDATE SET retention = excluded.retention, capacity = excluded.capacity",
            "$name", "$retention", "$capacity");
        DeadLetterQueueTarget = Prepare("SELECT retention, capacity FROM asyncqueue_dead_letter_queues WHERE name = $name", "$name");
        DeadLetterQueueNames = Prepare("SELECT name, retention, capacity FROM asyncqueue_dead_letter_queues");
        EvictOverCapacity = Prepare(
            "DELETE FROM asyncqueue_dead_letters WHERE seq IN (SELECT seq FROM asyncqueue_dead_letters WHERE dead_letter_queue = $dlq ORDER BY seq DESC LIMIT -1 OFFSET $capacity) RETURNING seq, id, kind",
            "$dlq", "$capacity");
        EvictOlderThan = Prepare("DELETE FROM asyncqueue_dead_letters WHERE dead_letter_queue = $dlq AND dead_lettered_at <= $cutoff RETURNING seq, id, kind", "$dlq", "$cutoff");
        ListDeadLetters = Prepare($"SELECT {DeadLetterColumns} FROM asyncqueue_dead_letters WHERE dead_letter_queue = $dlq ORDER BY seq LIMIT $take OFFSET $skip", "$dlq", "$take", "$skip");
        CountDeadLetters = Prepare("SELECT COUNT(*) FROM asyncqueue_dead_letters WHERE dead_letter_queue = $dlq", "$dlq");
        GetDeadLetter = Prepare($"SELECT {DeadLetterColumns} FROM asyncqueue_dead_letters WHERE id = $id", "$id");
        TakeDeadLetter = Prepare($"DELETE FROM asyncqueue_dead_letters WHERE id = $id RETURNING {DeadLetterColumns}", "$id");
        TakeAllDeadLetters = Prepare($"DELETE FROM asyncqueue_dead_letters WHERE dead_letter_queue = $dlq RETURNING {DeadLetterColumns}", "$dlq");
        DeleteDeadLetter = Prepare("DELETE FROM asyncqueue_dead_letters WHERE id = $id", "$id");
        PurgeDeadLetters = Prepare("DELETE FROM asyncqueue_dead_letters WHERE dead_letter_queue = $dlq", "$dlq");
    }

    public SqliteStatement Begin { get; }

    public SqliteStatement Commit { get; }

    public SqliteStatement Rollback { get; }

    public SqliteStatement FindKeyHolder { get; }

    public SqliteStatement DeleteJob { get; }

    public SqliteStatement Insert { get; }

    public SqliteStatement CountDue { get; }

    public SqliteStatement NextFence { get; }

    public SqliteStatement Lease { get; }

    public SqliteStatement LeaseIsolated { get; }

    public SqliteStatement HasDue { get; }

    public SqliteStatement NextDue { get; }

    public SqliteStatement Heartbeat { get; }

    public SqliteStatement CompleteDelete { get; }

    public SqliteStatement CompleteRetainKey { get; }

    public SqliteStatement Reschedule { get; }

    public SqliteStatement MarkStarted { get; }

    public SqliteStatement Release { get; }

    public SqliteStatement TakeLeased { get; }

    public SqliteStatement ExpiredLeases { get; }

    public SqliteStatement TakeOver { get; }

    public SqliteStatement ExpireLease { get; }

    public SqliteStatement EvictExpiredKeys { get; }

    public SqliteStatement CountRetainedKeys { get; }

    public SqliteStatement EvictOldestKeys { get; }

    public SqliteStatement InsertDeadLetter { get; }

    public SqliteStatement UpsertDeadLetterQueue { get; }

    public SqliteStatement DeadLetterQueueTarget { get; }

    public SqliteStatement DeadLetterQueueNames { get; }

    public SqliteStatement EvictOverCapacity { get; }

    public SqliteStatement EvictOlderThan { get; }

    public SqliteStatement ListDeadLetters { get; }

    public SqliteStatement CountDeadLetters { get; }

    public SqliteStatement GetDeadLetter { get; }

    public SqliteStatement TakeDeadLetter { get; }

    public SqliteStatement TakeAllDeadLetters { get; }

    public SqliteStatement DeleteDeadLetter { get; }

    public SqliteStatement PurgeDeadLetters { get; }

    public void Dispose()
    {
        foreach (var statement in _all)
        {
            statement.Dispose();
        }
    }
}
