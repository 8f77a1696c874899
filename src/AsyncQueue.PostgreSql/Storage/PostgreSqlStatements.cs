namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// Every statement of the store, with its schema filled in. Each state change of a leased job is conditional on its
/// lease token (<c>lease_token = @token</c>): that is the fencing that keeps a late attempt from overwriting the outcome
/// of a newer one.
/// </summary>
internal sealed partial class PostgreSqlStatements(string s)
{
    /// <summary>
    /// What a lease returns: the columns of a <c>StoredJobRow</c> (0 to 11), then the lease's token (12), the isolated
    /// flag (13), the priority (14), whether a cancel was requested (15), and a continuation's columns: whether its parent
    /// failed (16), what it then asks for (17) and its parents' ids (18).
    /// </summary>
    public const string LeasedColumns = "j.seq, j.id, j.kind, j.payload, j.attempt, j.max_attempts, j.enqueued_at, j.run_at, j.idempotency_key, j.errors, j.trace_parent, j.trace_state, j.lease_token, j.isolated, j.priority::integer, j.cancel_requested, j.parent_failed, j.on_parent_failure::integer, j.parent_ids";

    public const string DeadLetterColumns = "seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state, priority::integer";

    /// <summary>The columns of a <c>StoredJobStatus</c>, for a job's status.</summary>
    public const string StatusColumns = "id, queue, kind, state::integer, run_at, attempt, max_attempts, enqueued_at, idempotency_key, errors, priority::integer, started_at, finished_at, result, cancel_requested";

    public string InsertOne { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state, priority)
        VALUES (@id, @queue, @kind, @payload, 0, @run_at, @attempt, @max_attempts, @enqueued_at, @key, @key IS NOT NULL, @errors, @trace_parent, @trace_state, @priority)
        ON CONFLICT (idempotency_key) WHERE key_held DO NOTHING
        RETURNING seq
        """;

    // Jobs without a key, many in one statement, in the batch's order (seq grows with the ordinality).
    public string InsertMany { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, key_held, errors, trace_parent, trace_state, priority)
        SELECT t.id, @queue, t.kind, t.payload, 0, t.run_at, t.attempt, t.max_attempts, t.enqueued_at, false, t.errors, t.trace_parent, t.trace_state, t.priority
        FROM unnest(@ids::uuid[], @kinds::text[], @payloads::text[], @run_ats::bigint[], @attempts::integer[], @max_attempts::integer[], @enqueued_ats::bigint[], @errors::text[], @trace_parents::text[], @trace_states::text[], @priorities::integer[])
            WITH ORDINALITY AS t(id, kind, payload, run_at, attempt, max_attempts, enqueued_at, errors, trace_parent, trace_state, priority, ord)
        ORDER BY t.ord
        """;

    public string FindKeyHolder { get; } = $"SELECT seq, id, state, key_expires FROM {s}.jobs WHERE idempotency_key = @key AND key_held";

    // A succeeded job's expired key is freed for the new job; its row stays for its status's own retention.
    public string ReleaseExpiredKey { get; } = $"UPDATE {s}.jobs SET key_held = false WHERE seq = @seq AND state = 2 AND key_held AND key_expires <= @now";

    // One probe of the fetch index per priority level (priority IN: the B-tree descends once per value).
    public string CountDue { get; } = $"SELECT COUNT(*) FROM {s}.jobs WHERE queue = @queue AND state = 0 AND priority IN (0, 1, 2, 3) AND run_at <= @now";

    public string Notify { get; } = "SELECT pg_notify(@channel, @payload)";

    // One round trip leases a batch: one fencing token from the sequence, the most urgent due rows, oldest due first
    // within a level, that no other transaction holds (SKIP LOCKED: concurrent fetchers on other machines take other
    // rows instead of waiting). Each level is one probe of the fetch index (queue, priority, run_at, seq), ending at its
    // own LIMIT or at the first row not yet due, so rows scheduled far ahead are never read; the levels are read most
    // urgent first (a non-parallel Append runs its parts in order) and the outer LIMIT stops at the first ones that fill
    // it, so a row is locked only when it is taken. A paused queue (checked once, a one-time filter) reads nothing.
    // Each lease is a new attempt: its start is not recorded yet. Isolated jobs (suspects of a crash) stay out of the
    // ordinary batch; when the batch leaves room and this store holds no isolated job (@isolated), the most urgent,
    // oldest due one fills it: the suspects wait behind ordinary jobs, one at a time per process.
    public string Lease { get; } = $"""
        WITH token AS (SELECT nextval('{s}.fence') AS value),
        ordinary AS (
            SELECT seq FROM ({ByPriority($"SELECT seq FROM {s}.jobs WHERE queue = @queue AND state = 0 AND priority = {{0}} AND run_at <= @now AND NOT isolated ORDER BY run_at, seq LIMIT @limit FOR UPDATE SKIP LOCKED")}) AS due
            WHERE {NotPaused(s)}
            LIMIT @limit),
        suspect AS (
            SELECT seq FROM {s}.jobs WHERE queue = @queue AND state = 0 AND run_at <= @now AND isolated AND @isolated AND {NotPaused(s)}
            ORDER BY priority DESC, run_at, seq LIMIT (CASE WHEN (SELECT COUNT(*) FROM ordinary) < @limit THEN 1 ELSE 0 END) FOR UPDATE SKIP LOCKED),
        picked AS (SELECT seq FROM ordinary UNION ALL SELECT seq FROM suspect)
        UPDATE {s}.jobs j SET state = 1, attempt = j.attempt + 1, started = false, started_at = @now, lease_token = (SELECT value FROM token), lease_expires = @expires
        FROM picked WHERE j.seq = picked.seq
        RETURNING {LeasedColumns}
        """;

    // A queue-wide rate limit shared by every process on the database (QueueOptions.RateLimit, JobStoreCapabilities.
    // SharedRateLimits): the limited lease runs in a transaction that first takes the queue's counter row (the upsert
    // locks it until the commit, so the processes leasing the queue take their turns), leases no more than the window
    // has left with the Lease statement above, then raises the counter by what it leased. The row holds the newest
    // window counted: a new window starts at zero, and a process whose clock reading is older than it (it read the time,
    // then waited for the row while the window turned) finds it full and leases nothing, never moving the row back.
    // Every SET expression reads the row as it was, so used is reset before window_index moves.
    public string RateWindowTake { get; } = $"""
        INSERT INTO {s}.rate_windows AS w (queue, window_index, used) VALUES (@queue, @window, 0)
        ON CONFLICT (queue) DO UPDATE SET
            used = CASE WHEN w.window_index < excluded.window_index THEN 0 ELSE w.used END,
            window_index = GREATEST(w.window_index, excluded.window_index)
        RETURNING CASE WHEN w.window_index > @window THEN @permits ELSE w.used END
        """;

    public string RateWindowCount { get; } = $"UPDATE {s}.rate_windows SET used = used + @leased WHERE queue = @queue AND window_index = @window";

    // When the next job falls due (one probe per level), and whether the queue is paused: a paused queue's fetch loop
    // polls instead of waiting for a due time, and hands back what it leased ahead. An isolated job counts only when the
    // fetch loop may lease one: while this store holds one, the next is not due for it (the end of the hold wakes the
    // loop), and counting it would spin the loop on a job it cannot lease.
    public string NextDue { get; } = $"""
        SELECT LEAST({string.Join(", ", Levels.Select(level => $"(SELECT MIN(run_at) FROM {s}.jobs WHERE queue = @queue AND state = 0 AND priority = {level} AND (NOT isolated OR @isolated))"))}),
            NOT {NotPaused(s)}
        """;

    // The statements that lock several leased rows (heartbeat, completions) find each row by primary key, one array
    // element at a time, whatever the planner's estimates: the LATERAL subquery with OFFSET 0 is planned on its own, so
    // the row's other conditions are checked after the key lookup instead of tempting the planner to scan the
    // jobs_leases partial index (estimated at one row by an ANALYZE that ran while few jobs were leased, that plan read
    // every leased row for each element). The rows are locked in seq order (the driving array is sorted, and the nested
    // loop keeps its order), so two of these statements on overlapping rows (this process's heartbeat and its
    // completion batch) wait for each other instead of deadlocking. A row is locked when it is found, before its token
    // is checked, so a row whose lease was lost meanwhile is locked for the statement too: as briefly as the others.
    // lease_token = h.token alone identifies the lease (tokens are unique, and only a leased row has one); state = 1 is
    // checked too, for clarity.
    // The heartbeat also returns whether a cancel was requested meanwhile, so the store tells the record it holds.
    public string Heartbeat { get; } = $"""
        WITH mine AS ({MineSql(s)})
        UPDATE {s}.jobs j SET lease_expires = @expires FROM mine WHERE j.seq = mine.seq
        RETURNING j.seq, j.cancel_requested
        """;

    // For a queue that keeps no status, a success without a retained key simply goes. A job with continuations
    // (has_children) is left for CompleteParentDelete, which releases them in its transaction.
    public string CompleteDeleteMany { get; } = $"""
        WITH mine AS ({MineSql(s)})
        DELETE FROM {s}.jobs j USING mine WHERE j.seq = mine.seq AND NOT j.has_children
        RETURNING j.seq
        """;

    // A success stays as succeeded for its status (with its errors and result; the payload goes), and keeps its key
    // only when its retention is given (key_expires not null); a key it never held (a requeued dead letter's) stays unheld.
    // A job with continuations (has_children) is left for CompleteParentKeep, which releases them in its transaction.
    public string CompleteKeep { get; } = $"""
        WITH mine AS ({MineSql(s, ("key_expires", "bigint"), ("finished_at", "bigint"), ("result", "text"))})
        UPDATE {s}.jobs j SET state = 2, payload = NULL, lease_token = NULL, lease_expires = NULL, finished_at = mine.finished_at, result = mine.result,
            key_held = j.key_held AND mine.key_expires IS NOT NULL, key_expires = mine.key_expires
        FROM mine WHERE j.seq = mine.seq AND NOT j.has_children
        RETURNING j.seq
        """;

    // Cancelled while leased (the dispatcher's settle): its key is freed at once; the status stays for its retention.
    public string MarkCancelled { get; } = $"""
        UPDATE {s}.jobs SET state = 3, payload = NULL, errors = @errors, lease_token = NULL, lease_expires = NULL, finished_at = @now, key_held = false, key_expires = NULL
        WHERE seq = @seq AND lease_token = @token AND state = 1
        """;

    public string DeleteLeased { get; } = $"DELETE FROM {s}.jobs WHERE seq = @seq AND lease_token = @token AND state = 1";

    // Cancel by id: the newest row of the id (a requeued dead letter is a new row of the same id), locked until the
    // cancel commits, so a concurrent lease or settle waits for it.
    public string FindById { get; } = $"SELECT seq, state::integer, queue FROM {s}.jobs WHERE id = @id ORDER BY seq DESC LIMIT 1 FOR UPDATE";

    public string CancelWaiting { get; } = $"UPDATE {s}.jobs SET state = 3, payload = NULL, finished_at = @now, key_held = false, key_expires = NULL WHERE seq = @seq AND state IN (0, -1)";

    public string DeleteJob { get; } = $"DELETE FROM {s}.jobs WHERE seq = @seq";

    public string RequestCancel { get; } = $"UPDATE {s}.jobs SET cancel_requested = true WHERE seq = @seq AND state = 1";

    public string HasDeadLetter { get; } = $"SELECT EXISTS (SELECT 1 FROM {s}.dead_letters WHERE id = @id)";

    public string Status { get; } = $"SELECT {StatusColumns} FROM {s}.jobs WHERE id = @id ORDER BY seq DESC LIMIT 1";

    // A queue never paused has no row.
    public string SetPaused { get; } = $"INSERT INTO {s}.queues (name, paused) VALUES (@queue, @paused) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused";

    // Fenced like every settle; a lost lease (0 rows) means the attempt must not start.
    public string MarkStarted { get; } = $"UPDATE {s}.jobs SET started = true WHERE seq = @seq AND lease_token = @token AND state = 1";

    public string Reschedule { get; } = $"""
        UPDATE {s}.jobs SET state = 0, run_at = @run_at, attempt = @attempt, errors = @errors, isolated = @isolated, lease_token = NULL, lease_expires = NULL
        WHERE seq = @seq AND lease_token = @token AND state = 1
        """;

    public string Release { get; } = $"UPDATE {s}.jobs SET state = 0, attempt = attempt - 1, lease_token = NULL, lease_expires = NULL WHERE seq = @seq AND lease_token = @token AND state = 1";

    public string TakeLeased { get; } = $"DELETE FROM {s}.jobs WHERE seq = @seq AND lease_token = @token AND state = 1 RETURNING payload";

    // The rescue's takeover: a new fencing token fences out the lost holder; attempt and started stay as they were, so
    // the rescued record tells which attempt was lost and whether its start was recorded. Rows held elsewhere (a
    // concurrent takeover, a late completion) are skipped; a row this process still holds is left out by the caller.
    public string TakeOverExpired { get; } = $"""
        WITH token AS (SELECT nextval('{s}.fence') AS value),
        expired AS (
            SELECT seq FROM {s}.jobs
            WHERE state = 1 AND lease_expires <= @now AND queue = ANY(@queues::text[])
                AND NOT EXISTS (SELECT 1 FROM unnest(@held_seqs::bigint[], @held_tokens::bigint[]) AS h(seq, token) WHERE h.seq = jobs.seq AND h.token = jobs.lease_token)
            ORDER BY lease_expires LIMIT @limit FOR UPDATE SKIP LOCKED)
        UPDATE {s}.jobs j SET lease_token = (SELECT value FROM token), lease_expires = @expires
        FROM expired WHERE j.seq = expired.seq AND j.state = 1 AND j.lease_expires <= @now
        RETURNING {LeasedColumns}, j.queue, j.started
        """;

    // One process sweeps at a time: the others find this transaction-level lock taken and skip their turn.
    public string TrySweepLock { get; } = "SELECT pg_try_advisory_xact_lock(hashtextextended('asyncqueue.sweep.' || @schema, 0))";

    // Pruning deletes at most @limit rows per statement, so that no statement locks or logs an unbounded number of rows.
    // A key past its retention, or beyond the most kept, is freed; the row goes with its status's retention.
    public string ReleaseExpiredKeys { get; } = $"""
        UPDATE {s}.jobs SET key_held = false WHERE seq IN (
            SELECT seq FROM {s}.jobs WHERE state = 2 AND key_held AND key_expires <= @now LIMIT @limit)
        """;

    public string ReleaseOldestKeys { get; } = $"""
        UPDATE {s}.jobs SET key_held = false WHERE seq IN (
            SELECT seq FROM {s}.jobs WHERE state = 2 AND key_held ORDER BY key_expires DESC OFFSET @max LIMIT @limit)
        """;

    // A queue's finished rows past its status retention, or beyond the newest @capacity, go. Both read the
    // jobs_finished index of the queue, which holds only rows without a held key: a row whose key is still held stays
    // (its key must keep refusing duplicates) and does not count against the capacity (keys have MaxRetainedKeys).
    public string DeleteExpiredStatuses { get; } = $"""
        DELETE FROM {s}.jobs WHERE seq IN (
            SELECT seq FROM {s}.jobs WHERE queue = @queue AND state >= 2 AND NOT key_held AND finished_at <= @cutoff LIMIT @limit)
        """;

    // The newest row past the capacity, found once per sweep; then the rows up to it go oldest first, a batch at a time,
    // each batch a range of the index from its start (not an OFFSET read again for every batch).
    public string StatusCapacityBoundary { get; } = $"""
        SELECT finished_at, seq FROM {s}.jobs WHERE queue = @queue AND state >= 2 AND NOT key_held
        ORDER BY finished_at DESC, seq DESC OFFSET @capacity LIMIT 1
        """;

    public string EvictStatusesUpTo { get; } = $"""
        DELETE FROM {s}.jobs WHERE seq IN (
            SELECT seq FROM {s}.jobs WHERE queue = @queue AND state >= 2 AND NOT key_held AND (finished_at, seq) <= (@finished_at, @seq)
            ORDER BY finished_at, seq LIMIT @limit)
        """;

    public string DeleteDeadLetterById { get; } = $"DELETE FROM {s}.dead_letters WHERE id = @id";

    public string InsertDeadLetter { get; } = $"""
        INSERT INTO {s}.dead_letters (id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state, priority)
        VALUES (@id, @dlq, @queue, @kind, @payload, @attempt, @max_attempts, @enqueued_at, @dead_lettered_at, @key, @errors, @trace_parent, @trace_state, @priority)
        """;

    public string UpsertDeadLetterQueue { get; } = $"""
        INSERT INTO {s}.dead_letter_queues (name, retention, capacity) VALUES (@name, @retention, @capacity)
        ON CONFLICT (name) DO UPDATE SET retention = excluded.retention, capacity = excluded.capacity
        """;

    public string DeadLetterQueueTarget { get; } = $"SELECT retention, capacity FROM {s}.dead_letter_queues WHERE name = @name";

    public string DeadLetterQueueNames { get; } = $"SELECT name, retention, capacity FROM {s}.dead_letter_queues";

    public string EvictOverCapacity { get; } = $"""
        DELETE FROM {s}.dead_letters WHERE seq IN (
            SELECT seq FROM {s}.dead_letters WHERE dead_letter_queue = @dlq ORDER BY seq DESC OFFSET @capacity LIMIT @limit)
        RETURNING id, kind
        """;

    public string EvictOlderThan { get; } = $"""
        DELETE FROM {s}.dead_letters WHERE seq IN (
            SELECT seq FROM {s}.dead_letters WHERE dead_letter_queue = @dlq AND dead_lettered_at <= @cutoff LIMIT @limit)
        RETURNING id, kind
        """;

    public string ListDeadLetters { get; } = $"SELECT {DeadLetterColumns} FROM {s}.dead_letters WHERE dead_letter_queue = @dlq ORDER BY seq LIMIT @take OFFSET @skip";

    public string CountDeadLetters { get; } = $"SELECT COUNT(*) FROM {s}.dead_letters WHERE dead_letter_queue = @dlq";

    public string GetDeadLetter { get; } = $"SELECT {DeadLetterColumns} FROM {s}.dead_letters WHERE id = @id";

    public string TakeDeadLetter { get; } = $"DELETE FROM {s}.dead_letters WHERE id = @id RETURNING {DeadLetterColumns}";

    public string TakeAllDeadLetters { get; } = $"DELETE FROM {s}.dead_letters WHERE dead_letter_queue = @dlq RETURNING {DeadLetterColumns}";

    public string PurgeDeadLetters { get; } = $"DELETE FROM {s}.dead_letters WHERE dead_letter_queue = @dlq";

    // Requeue: back as a fresh job of its priority; its key is not claimed again (key_held false), as in the SQLite store.
    public string Requeue { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state, priority)
        VALUES (@id, @queue, @kind, @payload, 0, @run_at, 0, @max_attempts, @enqueued_at, @key, false, @errors, @trace_parent, @trace_state, @priority)
        """;

    public string CountQueue { get; } = $"""
        SELECT COUNT(*) FILTER (WHERE state = 0 AND run_at <= @now), COUNT(*) FILTER (WHERE state = 0 AND run_at > @now), COUNT(*) FILTER (WHERE state = 1),
            NOT {NotPaused(s)}
        FROM {s}.jobs WHERE queue = @queue AND state IN (0, 1)
        """;

    public string Counts { get; } = $"SELECT (SELECT COUNT(*) FROM {s}.jobs WHERE state = 0), (SELECT COUNT(*) FROM {s}.jobs WHERE state = 1), (SELECT COUNT(*) FROM {s}.dead_letters)";

    // Most urgent first: the order in which a lease reads the levels.
    private static readonly int[] Levels = [3, 2, 1, 0];

    /// <summary>Nothing of the queue is handed out while it is paused; uncorrelated, so the server evaluates it once.</summary>
    private static string NotPaused(string s) => $"NOT EXISTS (SELECT 1 FROM {s}.queues WHERE name = @queue AND paused)";

    /// <summary>
    /// A UNION ALL of one copy of <paramref name="probe"/> per priority level, most urgent first (<c>{0}</c> stands for
    /// the level), each in a subquery of its own so that its ORDER BY, LIMIT and row lock apply to it alone.
    /// </summary>
    private static string ByPriority(string probe) =>
        string.Join(" UNION ALL ", Levels.Select(level => $"SELECT * FROM ({probe.Replace("{0}", level.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}) AS p{level}"));

    /// <summary>The rows of this process's leases named by <c>@seqs</c>/<c>@tokens</c> (and one more array per <paramref name="extra"/> column, of its type), locked in seq order.</summary>
    private static string MineSql(string s, params (string Name, string Type)[] extra)
    {
        var arrays = string.Concat(extra.Select(e => $", @{e.Name}::{e.Type}[]"));
        var columns = string.Concat(extra.Select(e => $", {e.Name}"));
        var selected = string.Concat(extra.Select(e => $", h.{e.Name}"));
        return $"""
            SELECT j.seq{selected}
                FROM (SELECT * FROM unnest(@seqs::bigint[], @tokens::bigint[]{arrays}) AS u(seq, token{columns}) ORDER BY u.seq) AS h
                CROSS JOIN LATERAL (SELECT seq, state, lease_token FROM {s}.jobs WHERE seq = h.seq OFFSET 0 FOR UPDATE) AS j
                WHERE j.lease_token = h.token AND j.state = 1
            """;
    }
}
