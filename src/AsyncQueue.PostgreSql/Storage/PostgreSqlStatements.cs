namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// Every statement of the store, with its schema filled in. Each state change of a leased job is conditional on its
/// lease token (<c>lease_token = @token</c>): that is the fencing that keeps a late attempt from overwriting the outcome
/// of a newer one.
/// </summary>
internal sealed class PostgreSqlStatements(string s)
{
    public const string JobColumns = "seq, id, kind, payload, attempt, max_attempts, enqueued_at, run_at, idempotency_key, errors, trace_parent, trace_state";
    public const string DeadLetterColumns = "seq, id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state";

    public string InsertOne { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state)
        VALUES (@id, @queue, @kind, @payload, 0, @run_at, @attempt, @max_attempts, @enqueued_at, @key, @key IS NOT NULL, @errors, @trace_parent, @trace_state)
        ON CONFLICT (idempotency_key) WHERE key_held DO NOTHING
        RETURNING seq
        """;

    // Jobs without a key, many in one statement, in the batch's order (seq grows with the ordinality).
    public string InsertMany { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, key_held, errors, trace_parent, trace_state)
        SELECT t.id, @queue, t.kind, t.payload, 0, t.run_at, t.attempt, t.max_attempts, t.enqueued_at, false, t.errors, t.trace_parent, t.trace_state
        FROM unnest(@ids::uuid[], @kinds::text[], @payloads::text[], @run_ats::bigint[], @attempts::integer[], @max_attempts::integer[], @enqueued_ats::bigint[], @errors::text[], @trace_parents::text[], @trace_states::text[])
            WITH ORDINALITY AS t(id, kind, payload, run_at, attempt, max_attempts, enqueued_at, errors, trace_parent, trace_state, ord)
        ORDER BY t.ord
        """;

    public string FindKeyHolder { get; } = $"SELECT seq, id, state, key_expires FROM {s}.jobs WHERE idempotency_key = @key AND key_held";

    public string DeleteExpiredKey { get; } = $"DELETE FROM {s}.jobs WHERE seq = @seq AND state = 2 AND key_expires <= @now";

    public string CountDue { get; } = $"SELECT COUNT(*) FROM {s}.jobs WHERE queue = @queue AND state = 0 AND run_at <= @now";

    public string Notify { get; } = "SELECT pg_notify(@channel, @payload)";

    // One round trip leases a batch: one fencing token from the sequence, the oldest due rows that no other
    // transaction holds (SKIP LOCKED: concurrent fetchers on other machines take other rows instead of waiting).
    public string Lease { get; } = $"""
        WITH token AS (SELECT nextval('{s}.fence') AS value),
        picked AS (
            SELECT seq FROM {s}.jobs WHERE queue = @queue AND state = 0 AND run_at <= @now
            ORDER BY run_at, seq LIMIT @limit FOR UPDATE SKIP LOCKED)
        UPDATE {s}.jobs j SET state = 1, attempt = j.attempt + 1, lease_token = (SELECT value FROM token), lease_expires = @expires
        FROM picked WHERE j.seq = picked.seq
        RETURNING j.seq, j.id, j.kind, j.payload, j.attempt, j.max_attempts, j.enqueued_at, j.run_at, j.idempotency_key, j.errors, j.trace_parent, j.trace_state, j.lease_token
        """;

    public string NextDue { get; } = $"SELECT MIN(run_at) FROM {s}.jobs WHERE queue = @queue AND state = 0";

    // Every statement that locks several leased rows and waits for their locks (heartbeat, completions) locks them in
    // seq order first (ORDER BY then FOR UPDATE: the rows are locked as they come out of the sort), so two of them on
    // overlapping rows (this process's heartbeat and its completion batch) wait for each other instead of deadlocking.
    public string Heartbeat { get; } = $"""
        WITH mine AS (
            SELECT j.seq FROM {s}.jobs j JOIN unnest(@seqs::bigint[], @tokens::bigint[]) AS h(seq, token) ON j.seq = h.seq
            WHERE j.lease_token = h.token AND j.state = 1 ORDER BY j.seq FOR UPDATE OF j)
        UPDATE {s}.jobs j SET lease_expires = @expires FROM mine WHERE j.seq = mine.seq
        RETURNING j.seq
        """;

    public string CompleteDeleteMany { get; } = $"""
        WITH mine AS (
            SELECT j.seq FROM {s}.jobs j JOIN unnest(@seqs::bigint[], @tokens::bigint[]) AS h(seq, token) ON j.seq = h.seq
            WHERE j.lease_token = h.token AND j.state = 1 ORDER BY j.seq FOR UPDATE OF j)
        DELETE FROM {s}.jobs j USING mine WHERE j.seq = mine.seq
        RETURNING j.seq
        """;

    public string CompleteRetainKeys { get; } = $"""
        WITH mine AS (
            SELECT j.seq, h.key_expires FROM {s}.jobs j JOIN unnest(@seqs::bigint[], @tokens::bigint[], @key_expires::bigint[]) AS h(seq, token, key_expires) ON j.seq = h.seq
            WHERE j.lease_token = h.token AND j.state = 1 AND j.key_held ORDER BY j.seq FOR UPDATE OF j)
        UPDATE {s}.jobs j SET state = 2, payload = NULL, errors = NULL, lease_token = NULL, lease_expires = NULL, key_expires = mine.key_expires
        FROM mine WHERE j.seq = mine.seq
        RETURNING j.seq
        """;

    public string Reschedule { get; } = $"""
        UPDATE {s}.jobs SET state = 0, run_at = @run_at, attempt = @attempt, errors = @errors, lease_token = NULL, lease_expires = NULL
        WHERE seq = @seq AND lease_token = @token AND state = 1
        """;

    public string Release { get; } = $"UPDATE {s}.jobs SET state = 0, attempt = attempt - 1, lease_token = NULL, lease_expires = NULL WHERE seq = @seq AND lease_token = @token AND state = 1";

    public string TakeLeased { get; } = $"DELETE FROM {s}.jobs WHERE seq = @seq AND lease_token = @token AND state = 1 RETURNING payload";

    public string ExpiredLeases { get; } = $"""
        SELECT seq, id, queue, kind, attempt, max_attempts, enqueued_at, idempotency_key, errors, lease_token, lease_expires, trace_parent, trace_state
        FROM {s}.jobs WHERE state = 1 AND lease_expires <= @now ORDER BY lease_expires LIMIT @limit FOR UPDATE SKIP LOCKED
        """;

    // One process sweeps at a time: the others find this transaction-level lock taken and skip their turn.
    public string TrySweepLock { get; } = "SELECT pg_try_advisory_xact_lock(hashtextextended('asyncqueue.sweep.' || @schema, 0))";

    // Pruning deletes at most @limit rows per statement, so that no statement locks or logs an unbounded number of rows.
    public string EvictExpiredKeys { get; } = $"""
        DELETE FROM {s}.jobs WHERE seq IN (
            SELECT seq FROM {s}.jobs WHERE state = 2 AND key_expires <= @now LIMIT @limit)
        """;

    public string EvictOldestKeys { get; } = $"""
        DELETE FROM {s}.jobs WHERE seq IN (
            SELECT seq FROM {s}.jobs WHERE state = 2 ORDER BY key_expires DESC OFFSET @max LIMIT @limit)
        """;

    public string DeleteDeadLetterById { get; } = $"DELETE FROM {s}.dead_letters WHERE id = @id";

    public string InsertDeadLetter { get; } = $"""
        INSERT INTO {s}.dead_letters (id, dead_letter_queue, queue, kind, payload, attempt, max_attempts, enqueued_at, dead_lettered_at, idempotency_key, errors, trace_parent, trace_state)
        VALUES (@id, @dlq, @queue, @kind, @payload, @attempt, @max_attempts, @enqueued_at, @dead_lettered_at, @key, @errors, @trace_parent, @trace_state)
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

    // Requeue: back as a fresh job; its key is not claimed again (key_held false), as in the SQLite store.
    public string Requeue { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, idempotency_key, key_held, errors, trace_parent, trace_state)
        VALUES (@id, @queue, @kind, @payload, 0, @run_at, 0, @max_attempts, @enqueued_at, @key, false, @errors, @trace_parent, @trace_state)
        """;

    public string Counts { get; } = $"SELECT (SELECT COUNT(*) FROM {s}.jobs WHERE state = 0), (SELECT COUNT(*) FROM {s}.jobs WHERE state = 1), (SELECT COUNT(*) FROM {s}.dead_letters)";
}
