using AsyncQueue.Storage;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>A queue's jobs by state, and whether it is paused, in one query over every process's jobs.</summary>
internal sealed partial class PostgreSqlJobStore
{
    public async ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken)
    {
        var state = GetQueue(queue);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Gauges may still be observed after the host stopped: a closed store reports nothing here.
            return new QueueCounts(0, 0, 0);
        }

        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(_sql.CountQueue, connection).Text("queue", state.Name).Long("now", _time.GetUtcNow().UtcTicks);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);

        // Jobs leased for this process's workers and not yet taken are still waiting to start, not running.
        var untaken = Math.Min(state.Ready.Reader.Count, reader.GetInt64(2));
        return new QueueCounts(reader.GetInt64(0) + untaken, reader.GetInt64(1), reader.GetInt64(2) - untaken, reader.GetBoolean(3));
    }
}
