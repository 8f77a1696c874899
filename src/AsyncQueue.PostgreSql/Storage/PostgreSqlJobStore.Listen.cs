using AsyncQueue.PostgreSql.Diagnostics;
using AsyncQueue.Storage.Durable;
using Npgsql;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// LISTEN/NOTIFY: jobs enqueued by other processes, and queues resumed by them, wake this process's fetch loops at once;
/// a cancel requested by another process reaches the job this process holds at once, not at the next heartbeat.
/// </summary>
internal sealed partial class PostgreSqlJobStore
{
    /// <summary>
    /// Holds one connection that listens on the schema's channel. When it drops (the server restarts), the fetch loops
    /// fall back on polling every <see cref="PostgreSqlStoreOptions.PollInterval"/> and the listener reconnects. Not
    /// run at all when <see cref="PostgreSqlStoreOptions.UseListenNotify"/> is off.
    /// </summary>
    private async Task RunListenLoopAsync(NpgsqlDataSource listenSource)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                using var connection = await listenSource.OpenConnectionAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                using (var listen = new NpgsqlCommand($"LISTEN \"{_channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }

                // Jobs enqueued while no one listened are found now, not at the next poll.
                WakeAll();
                while (true)
                {
                    await connection.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The server may be restarting: poll meanwhile, and listen again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                PostgreSqlLog.ListenLost(_logger, ex, _options.PollInterval);
            }

            try
            {
                // Real time, not the injected clock: this is a reconnect back-off, not a job schedule.
                await Task.Delay(_options.PollInterval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The payload of a cancel request: it starts with a line break, which no queue's payload does (a queue name is never
    /// empty), then names the row.
    /// </summary>
    private static string CancelPayload(long seq) => "\ncancel " + seq.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void OnNotification(string payload)
    {
        if (payload.StartsWith("\ncancel ", StringComparison.Ordinal))
        {
            // The row is leased; if this process holds it, its record is told (a stale or foreign seq finds nothing).
            if (long.TryParse(payload.AsSpan("\ncancel ".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq)
                && _held.TryGetValue(seq, out var held))
            {
                CancellationRequests.Deliver(held);
            }

            return;
        }

        var split = payload.IndexOf('\n', StringComparison.Ordinal);
        var queue = split < 0 ? payload : payload[..split];

        // This process's own enqueues already woke its loops.
        if (split >= 0 && payload.AsSpan(split + 1).SequenceEqual(_instance))
        {
            return;
        }

        if (_queues.TryGetValue(queue, out var state))
        {
            state.Wake();
        }
    }

    private void WakeAll()
    {
        foreach (var queue in _queueList)
        {
            queue.Wake();
        }
    }
}
