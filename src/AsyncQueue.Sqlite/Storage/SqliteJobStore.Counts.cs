using AsyncQueue.Storage;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>A queue's jobs by state, counted on the reader connection, so a count never waits behind the writer's transaction.</summary>
internal sealed partial class SqliteJobStore
{
    // One statement, three counts and the pause, each on an index: due and scheduled on the fetch index (one probe per
    // priority level), running on the lease index.
    private const string CountSql = """
        SELECT
            (SELECT COUNT(*) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority IN (0, 1, 2, 3) AND run_at <= $now),
            (SELECT COUNT(*) FROM asyncqueue_jobs WHERE queue = $queue AND state = 0 AND priority IN (0, 1, 2, 3) AND run_at > $now),
            (SELECT COUNT(*) FROM asyncqueue_jobs WHERE queue = $queue AND state = 1),
            EXISTS (SELECT 1 FROM asyncqueue_queues WHERE name = $queue AND paused = 1)
        """;

    /// <summary>Counts on the reader connection, after the completions this process queued without waiting (a job whose handler returned is not counted running).</summary>
    public ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        cancellationToken.ThrowIfCancellationRequested();
        var flushed = FlushDetachedAsync();
        return flushed.IsCompletedSuccessfully ? Count(queue) : CountAfterAsync(flushed, queue);
    }

    private async ValueTask<QueueCounts> CountAfterAsync(ValueTask flushed, string queue)
    {
        await flushed.ConfigureAwait(false);
        return await Count(queue).ConfigureAwait(false);
    }

    private ValueTask<QueueCounts> Count(string queue)
    {
        var now = _time.GetUtcNow().UtcTicks;
        lock (_readerGate)
        {
            // Gauges may still be observed after the host stopped: a closed store reports an empty queue.
            if (_closed)
            {
                return new(new QueueCounts(0, 0, 0));
            }

            using var reader = _count.Query(queue, now);
            reader.Read();

            // Jobs leased for this process's workers and not yet taken (the lease step leases for a worker about to
            // fetch) are leased rows but have not started: they count as waiting, not running.
            var untaken = _queues.TryGetValue(queue, out var state) ? state.Untaken : 0;
            var leased = reader.GetInt64(2);
            untaken = (int)Math.Min(untaken, leased);
            return new(new QueueCounts(reader.GetInt64(0) + untaken, reader.GetInt64(1), leased - untaken, reader.GetBoolean(3)));
        }
    }
}
