namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// The statements of continuations (schema version 4): a child row awaiting its parents is state -1 with the count of
/// parents still to succeed (pending_parents), a <c>job_parents</c> row links each such parent to it, and a parent row
/// with links is marked <c>has_children</c>, so that only its completion takes the slower path that releases them.
/// </summary>
internal sealed partial class PostgreSqlStatements
{
    // The newest row of each parent still to settle is marked and locked until the continuation commits, in seq order
    // (the order the completion statements lock rows in, so the two wait for each other rather than deadlock). A
    // completion that waited for this lock then sees has_children and leaves the row to CompleteParent*, which finds the
    // link; one that committed first leaves the row succeeded, which this statement no longer matches.
    public string MarkPendingParents { get; } = $"""
        UPDATE {s}.jobs j SET has_children = true
        FROM (
            SELECT seq FROM {s}.jobs
            WHERE seq IN (SELECT DISTINCT ON (id) seq FROM {s}.jobs WHERE id = ANY(@parents::uuid[]) ORDER BY id, seq DESC) AND state IN (-1, 0, 1)
            ORDER BY seq FOR UPDATE) AS p
        WHERE j.seq = p.seq AND j.state IN (-1, 0, 1)
        RETURNING j.id
        """;

    // The other parents: finished (2 succeeded, 3 cancelled), dead-lettered, or unknown (no row and no dead letter).
    public string ParentStates { get; } = $"""
        SELECT p.id, (SELECT state::integer FROM {s}.jobs WHERE id = p.id ORDER BY seq DESC LIMIT 1),
            EXISTS (SELECT 1 FROM {s}.dead_letters WHERE id = p.id)
        FROM unnest(@parents::uuid[]) AS p(id)
        """;

    public string InsertContinuation { get; } = $"""
        INSERT INTO {s}.jobs (id, queue, kind, payload, state, run_at, attempt, max_attempts, enqueued_at, key_held, errors, trace_parent, trace_state, priority, parent_ids, pending_parents, on_parent_failure, parent_failed)
        VALUES (@id, @queue, @kind, @payload, @state, @run_at, @attempt, @max_attempts, @enqueued_at, false, @errors, @trace_parent, @trace_state, @priority, @parent_ids, @pending, @on_parent_failure, @parent_failed)
        """;

    public string InsertLinks { get; } = $"INSERT INTO {s}.job_parents (parent_id, child_id) SELECT unnest(@parents::uuid[]), @child ON CONFLICT DO NOTHING";

    // A parent with continuations completes alone, fenced like the batch statements, in the transaction that releases them.
    public string CompleteParentKeep { get; } = $"""
        UPDATE {s}.jobs SET state = 2, payload = NULL, lease_token = NULL, lease_expires = NULL, finished_at = @finished_at, result = @result,
            key_held = key_held AND @key_expires IS NOT NULL, key_expires = @key_expires
        WHERE seq = @seq AND lease_token = @token AND state = 1
        """;

    public string CompleteParentDelete { get; } = $"DELETE FROM {s}.jobs WHERE seq = @seq AND lease_token = @token AND state = 1";

    // In the transaction that records a parent's success: its links go, and each child still awaiting counts one parent
    // fewer, due from now (or its own later time) at zero. The children are locked in seq order, so two parents of the
    // same children settling at once wait for each other; the one that waited counts down from the other's result.
    public string ReleaseChildren { get; } = $"""
        WITH links AS (DELETE FROM {s}.job_parents WHERE parent_id = @parent RETURNING child_id),
        children AS (SELECT seq FROM {s}.jobs WHERE id IN (SELECT child_id FROM links) AND state = -1 ORDER BY seq FOR UPDATE)
        UPDATE {s}.jobs c SET pending_parents = c.pending_parents - 1,
            state = CASE WHEN c.pending_parents <= 1 THEN 0 ELSE -1 END,
            run_at = CASE WHEN c.pending_parents <= 1 THEN GREATEST(c.run_at, @now) ELSE c.run_at END
        FROM children WHERE c.seq = children.seq AND c.state = -1
        RETURNING c.queue, c.state::integer
        """;

    // In the transaction that dead-letters or cancels a parent: each child still awaiting is due now, marked failed; its
    // links to other parents stay, and release nothing when those settle (it no longer awaits).
    public string FailChildren { get; } = $"""
        WITH links AS (DELETE FROM {s}.job_parents WHERE parent_id = @parent RETURNING child_id),
        children AS (SELECT seq FROM {s}.jobs WHERE id IN (SELECT child_id FROM links) AND state = -1 ORDER BY seq FOR UPDATE)
        UPDATE {s}.jobs c SET state = 0, run_at = @now, parent_failed = true, pending_parents = 0
        FROM children WHERE c.seq = children.seq AND c.state = -1
        RETURNING c.queue, c.state::integer
        """;
}
