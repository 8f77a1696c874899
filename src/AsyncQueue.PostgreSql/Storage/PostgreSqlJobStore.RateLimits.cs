using AsyncQueue.RateLimiting;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// Queue-wide rate limits shared by every process on the database (<see cref="QueueOptions.RateLimit"/>): a row per
/// queue counts the jobs leased in the current window, taken and raised in the transaction of the limited lease. The
/// dispatcher holds the policy (the limit, its windows); this store only counts.
/// </summary>
internal sealed partial class PostgreSqlJobStore
{
    // A per-key limit is counted by each process's dispatcher instead (see JobStoreCapabilities.SharedRateLimits).
    private static JobRateLimit? SharedLimit(PostgreSqlQueue queue) => queue.Options.RateLimit is { Key: null } limit ? limit : null;

    /// <summary>
    /// Takes the queue's counter row for <paramref name="transaction"/> (other processes' limited leases of the queue wait
    /// for its commit) and returns how many jobs the window of <paramref name="window"/> has left.
    /// </summary>
    private async Task<int> TakePermitsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgreSqlQueue queue, JobRateLimit limit, long window, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(_sql.RateWindowTake, connection, transaction)
            .Text("queue", queue.Name)
            .Long("window", window)
            .Int("permits", limit.Permits);
        var used = (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return Math.Max(0, limit.Permits - used);
    }

    /// <summary>Counts <paramref name="leased"/> jobs into the window, in the transaction that took its row.</summary>
    private async Task CountPermitsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgreSqlQueue queue, long window, int leased, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(_sql.RateWindowCount, connection, transaction)
            .Text("queue", queue.Name)
            .Long("window", window)
            .Int("leased", leased);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
