using Microsoft.Data.Sqlite;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// Every statement the writer runs, prepared once on the writer connection. Each state change of a leased job is
/// conditional on its lease token (<c>lease_token = $token</c>): that is the fencing that keeps a late attempt from
/// overwriting the outcome of a newer one.
/// </summary>
internal sealed class SqliteStatements : IDisposable
{
    // StoredJobRow's columns, then isolated, started, priority and cancel_requested (read by StoredJobRow.Read).
    private const string JobColumns = "seq, id, kind, payload, attempt, max_attempts, enqueued_at, run_at, idempotency_key, errors, trace_parent, trace_state, isolated, started, priority, cancel_requested, parent_failed, on_parent_failure, parent_id";
    public const string DeadLetterColumns = "seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state, priority";

    /// <summary>The columns of <c>StoredJobStatus</c>, for <see cref="AsyncQueue.Storage.IJobStore.GetJobAsync"/>.</summary>
    public const string StatusColumns = "id, queue, kind, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, errors, priority, started_at, finished_at, result, cancel_requested";

    /// <summary>Nothing of the queue is handed out while it is paused; a constant term, so SQLite tests it once, before any row.</summary>
    private const string NotPaused = "NOT EXISTS (SELECT 1 FROM asyncqueue_queues WHERE name = $queue AND paused = 1)";

    /// <summary>Every priority level, for a due count or check on the fetch index (one probe per level).</summary>
    private const string AnyPriority = "priority IN (0, 1, 2, 3)";

    // Most urgent first: the order in which a lease reads the levels.
    private static readonly int[] Levels = [3, 2, 1, 0];

    /// <summary>The lease of ordinary jobs (see the comment where it is prepared), as text for the plan test.</summary>
    public static readonly string LeaseSql = $"""
        UPDATE asyncqueue_jobs SET state = 1, attempt = attempt + 1, started = 0, started_at = $now, lease_token = $token, lease_expires = $expires
        WHERE seq IN (SELECT seq FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority IN (3, 2, 1, 0) AND run_at <= $now AND isolated = 0 AND {NotPaused} ORDER BY priority DESC, run_at, seq LIMIT $limit)
        RETURNING {JobColumns}
        """;

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
        // A succeeded job's expired key is freed for a new job; its row stays for the status's own retention.
        ReleaseKey = Prepare("UPDATE asyncqueue_jobs SET key_held = 0 WHERE seq = $seq", "$seq");
        Insert = Prepare(
            """
            INSERT INTO asyncqueue_jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state, priority)
            VALUES ($id, $queue, $kind, $payload, 0, $run_at, $attempt, $max_attempts, $enqueued_at, $key, $key_held, $errors, $trace_parent, $trace_state, $priority)
            """,
            "$id", "$queue", "$kind", "$payload", "$run_at", "$attempt", "$max_attempts", "$enqueued_at", "$key", "$key_held", "$errors", "$trace_parent", "$trace_state", "$priority");
        // A continuation: due (state 0), or awaiting its parent (state -1); parent_failed when its parent failed already.
        InsertContinuation = Prepare(
            """
            INSERT INTO asyncqueue_jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state, priority, parent_id, on_parent_failure, parent_failed)
            VALUES ($id, $queue, $kind, $payload, $state, $run_at, $attempt, $max_attempts, $enqueued_at, NULL, 0, $errors, $trace_parent, $trace_state, $priority, $parent_id, $on_parent_failure, $parent_failed)
            """,
            "$id", "$queue", "$kind", "$payload", "$state", "$run_at", "$attempt", "$max_attempts", "$enqueued_at", "$errors", "$trace_parent", "$trace_state", "$priority", "$parent_id", "$on_parent_failure", "$parent_failed");
        // Run in the transaction that settles the parent: released continuations are due from now (or their own later time).
        ReleaseChildren = Prepare("UPDATE asyncqueue_jobs SET state = 0, run_at = MAX(run_at, $now) WHERE parent_id = $parent AND state = -1", "$parent", "$now");
        FailChildren = Prepare("UPDATE asyncqueue_jobs SET state = 0, run_at = $now, parent_failed = 1 WHERE parent_id = $parent AND state = -1", "$parent", "$now");
        CountDue = Prepare($"SELECT COUNT(*) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND {AnyPriority} AND run_at <= $now", "$queue", "$now");

        // Lease: one fencing token per transaction, from a counter that only grows, shared by every process on the file.
        NextFence = Prepare("UPDATE asyncqueue_meta SET value = value + 1 WHERE key = 'fence' RETURNING value");
        // A new attempt's lease: its start is not recorded yet. Isolated suspects are leased apart, one at a time. The most
        // urgent due jobs first, oldest due first within a level: the fetch index is (queue, priority DESC, run_at), so
        // SQLite walks the IN list most urgent first, one range of due jobs per level, in the ORDER BY's own order (no
        // sort), ending each range at the first job not yet due (jobs scheduled far ahead are never read) and the whole
        // at the LIMIT. A paused queue reads nothing (a constant term, tested once). A UNION ALL of one subquery per level
        // reads the same rows but cost twice as much per lease on the store's benchmark.
        Lease = Prepare(LeaseSql, "$token", "$expires", "$queue", "$now", "$limit");
        // The most urgent, oldest due isolated job; with $only_oldest = 1, only if no ordinary job waiting is due before
        // it (more urgent and due, or as urgent and due no later), so that a suspect takes its turn instead of waiting
        // for a backlog of newer jobs to drain. Each check is one probe of the fetch index.
        LeaseIsolated = Prepare(
            $"""
            UPDATE asyncqueue_jobs SET state = 1, attempt = attempt + 1, started = 0, started_at = $now, lease_token = $token, lease_expires = $expires
            WHERE seq IN (
                SELECT seq FROM asyncqueue_jobs AS i WHERE queue = $queue AND state = 0 AND run_at <= $now AND isolated = 1 AND {NotPaused}
                AND ($only_oldest = 0 OR NOT (
                    (i.priority < 3 AND EXISTS (SELECT 1 FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority = 3 AND run_at <= $now AND isolated = 0))
                    OR (i.priority < 2 AND EXISTS (SELECT 1 FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority = 2 AND run_at <= $now AND isolated = 0))
                    OR (i.priority < 1 AND EXISTS (SELECT 1 FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority = 1 AND run_at <= $now AND isolated = 0))
                    OR EXISTS (SELECT 1 FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority = i.priority AND run_at <= i.run_at AND isolated = 0)))
                ORDER BY priority DESC, run_at, seq LIMIT 1)
            RETURNING {JobColumns}
            """,
            "$token", "$expires", "$queue", "$now", "$only_oldest");

        // $isolated = 0 while the store holds an isolated job: the others are not due for it until that one is settled.
        // A paused queue has nothing due, and no next time: its idle workers poll, and a resume here wakes them.
        HasDue = Prepare($"SELECT EXISTS (SELECT 1 FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND {AnyPriority} AND run_at <= $now AND (isolated = 0 OR $isolated = 1)) AND {NotPaused}", "$queue", "$now", "$isolated");
        NextDue = Prepare(
            $"SELECT MIN(due) FROM ({ByPriority("SELECT MIN(run_at) AS due FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority = {0} AND (isolated = 0 OR $isolated = 1)")}) WHERE {NotPaused}",
            "$queue", "$isolated");
        // A rate-limited queue's leases in a window: read and counted in the lease step's write transaction, which every
        // process on the file takes in turn (BEGIN IMMEDIATE), so no two processes lease the same permits.
        // A cycle whose clock reading is older than the window another process already counted in (it read the time,
        // then waited for the write lock while the window turned) finds that window full: it leases nothing, and never
        // moves the row back to an older window.
        RateUsed = Prepare(
            "SELECT CASE WHEN window_index > $window THEN $permits WHEN window_index = $window THEN used ELSE 0 END FROM asyncqueue_rate_windows WHERE queue = $queue",
            "$queue", "$window", "$permits");
        RateCount = Prepare(
            """
            INSERT INTO asyncqueue_rate_windows (queue, window_index, used) VALUES ($queue, $window, $used)
            ON CONFLICT (queue) DO UPDATE SET
                used = CASE WHEN window_index = excluded.window_index THEN used + excluded.used ELSE excluded.used END,
                window_index = excluded.window_index
            WHERE excluded.window_index >= window_index
            """,
            "$queue", "$window", "$used");

        // Returns whether a cancel was requested meanwhile, so the heartbeat tells the record it holds.
        Heartbeat = Prepare("UPDATE asyncqueue_jobs SET lease_expires = $expires WHERE seq = $seq AND lease_token = $token AND state = 1 RETURNING cancel_requested", "$expires", "$seq", "$token");

        // Settle, each fenced by the lease token.
        CompleteDelete = Prepare("DELETE FROM asyncqueue_jobs WHERE seq = $seq AND lease_token = $token AND state = 1", "$seq", "$token");
        // A finished row keeps its status (and its errors) for the queue's retention; the payload goes. It keeps its key
        // only when its retention is given ($key_expires), and a key it never held (a requeued dead letter's) stays unheld.
        CompleteKeep = Prepare(
            """
            UPDATE asyncqueue_jobs SET state = 2, payload = NULL, lease_token = NULL, lease_expires = NULL, finished_at = $now, result = $result,
                key_held = CASE WHEN $key_expires IS NULL THEN 0 ELSE key_held END, key_expires = $key_expires
            WHERE seq = $seq AND lease_token = $token AND state = 1
            """,
            "$now", "$result", "$key_expires", "$seq", "$token");
        MarkCancelled = Prepare(
            """
            UPDATE asyncqueue_jobs SET state = 3, payload = NULL, errors = $errors, lease_token = NULL, lease_expires = NULL, finished_at = $now, key_held = 0, key_expires = NULL
            WHERE seq = $seq AND lease_token = $token AND state = 1
            """,
            "$errors", "$now", "$seq", "$token");
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

        // Cancel by id: the newest row of the id (a requeued dead letter is a new row of the same id).
        FindById = Prepare("SELECT seq, state, queue FROM asyncqueue_jobs WHERE id = $id ORDER BY seq DESC LIMIT 1", "$id");
        CancelWaiting = Prepare(
            "UPDATE asyncqueue_jobs SET state = 3, payload = NULL, finished_at = $now, key_held = 0, key_expires = NULL WHERE seq = $seq AND state IN (0, -1)",
            "$now", "$seq");
        RequestCancel = Prepare("UPDATE asyncqueue_jobs SET cancel_requested = 1 WHERE seq = $seq AND state = 1", "$seq");
        HasDeadLetter = Prepare("SELECT EXISTS (SELECT 1 FROM asyncqueue_dead_letters WHERE id = $id)", "$id");

        // Pause and resume; a queue never paused has no row.
        SetPaused = Prepare(
            "INSERT INTO asyncqueue_queues (name, paused) VALUES ($queue, $paused) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused",
            "$queue", "$paused");

        // Sweep. A key past its retention, or beyond the most kept, is freed; the row goes with its status's retention.
        ReleaseExpiredKeys = Prepare("UPDATE asyncqueue_jobs SET key_held = 0 WHERE state = 2 AND key_held = 1 AND key_expires <= $now", "$now");
        CountRetainedKeys = Prepare("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state = 2 AND key_held = 1");
        ReleaseOldestKeys = Prepare(
            "UPDATE asyncqueue_jobs SET key_held = 0 WHERE seq IN (SELECT seq FROM asyncqueue_jobs WHERE state = 2 AND key_held = 1 ORDER BY key_expires LIMIT $count)",
            "$count");
        // Both on the finished index, which holds only rows without a held key: a row kept for its key stays, and does
        // not count against the capacity (the keys have their own bound, MaxRetainedKeys).
        DeleteExpiredStatuses = Prepare(
            "DELETE FROM asyncqueue_jobs WHERE queue = $queue AND state >= 2 AND key_held = 0 AND finished_at <= $cutoff",
            "$queue", "$cutoff");
        EvictStatusesOverCapacity = Prepare(
            "DELETE FROM asyncqueue_jobs WHERE seq IN (SELECT seq FROM asyncqueue_jobs WHERE queue = $queue AND state >= 2 AND key_held = 0 ORDER BY finished_at DESC, seq DESC LIMIT -1 OFFSET $capacity)",
            "$queue", "$capacity");

        // Dead letters.
        InsertDeadLetter = Prepare(
            """
            INSERT OR REPLACE INTO asyncqueue_dead_letters (id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state, priority)
            VALUES ($id, $dlq, $queue, $kind, $payload, $attempt, $max_attempts, $enqueued_at, $dead_lettered_at, $key, $errors, $trace_parent, $trace_state, $priority)
            """,
            "$id", "$dlq", "$queue", "$kind", "$payload", "$attempt", "$max_attempts", "$enqueued_at", "$dead_lettered_at", "$key", "$errors", "$trace_parent", "$trace_state", "$priority");
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

    public SqliteStatement ReleaseKey { get; }

    public SqliteStatement Insert { get; }

    public SqliteStatement CountDue { get; }

    public SqliteStatement NextFence { get; }

    public SqliteStatement Lease { get; }

    public SqliteStatement LeaseIsolated { get; }

    public SqliteStatement HasDue { get; }

    public SqliteStatement NextDue { get; }

    public SqliteStatement RateUsed { get; }

    public SqliteStatement RateCount { get; }

    public SqliteStatement Heartbeat { get; }

    public SqliteStatement CompleteDelete { get; }

    public SqliteStatement CompleteKeep { get; }

    public SqliteStatement MarkCancelled { get; }

    public SqliteStatement Reschedule { get; }

    public SqliteStatement MarkStarted { get; }

    public SqliteStatement Release { get; }

    public SqliteStatement TakeLeased { get; }

    public SqliteStatement ExpiredLeases { get; }

    public SqliteStatement TakeOver { get; }

    public SqliteStatement ExpireLease { get; }

    public SqliteStatement FindById { get; }

    public SqliteStatement CancelWaiting { get; }

    public SqliteStatement InsertContinuation { get; }

    public SqliteStatement ReleaseChildren { get; }

    public SqliteStatement FailChildren { get; }

    public SqliteStatement RequestCancel { get; }

    public SqliteStatement HasDeadLetter { get; }

    public SqliteStatement SetPaused { get; }

    public SqliteStatement ReleaseExpiredKeys { get; }

    public SqliteStatement CountRetainedKeys { get; }

    public SqliteStatement ReleaseOldestKeys { get; }

    public SqliteStatement DeleteExpiredStatuses { get; }

    public SqliteStatement EvictStatusesOverCapacity { get; }

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

    /// <summary>
    /// A compound of one copy of <paramref name="probe"/> per priority level, most urgent first (<c>{0}</c> stands for the
    /// level), each wrapped so that its own aggregate applies to it alone: a MIN over all levels at once would read
    /// every waiting job, one per level reads one index entry.
    /// </summary>
    private static string ByPriority(string probe) =>
        string.Join(" UNION ALL ", Levels.Select(level => "SELECT * FROM (" + probe.Replace("{0}", level.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) + ")"));

    public void Dispose()
    {
        foreach (var statement in _all)
        {
            statement.Dispose();
        }
    }
}
