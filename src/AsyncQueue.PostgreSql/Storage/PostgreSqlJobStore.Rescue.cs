using System.Threading.Channels;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using Npgsql;
using NpgsqlTypes;

namespace AsyncQueue.PostgreSql.Storage;

/// <summary>
/// The rescue of expired leases: the sweeper takes each one over for this process (a new fencing token, attempt and
/// start flag untouched) and hands it to the dispatcher, which decides its fate. Only a process whose dispatcher opened
/// the rescue takes leases over: one that only enqueues would hold them and never settle them.
/// </summary>
internal sealed partial class PostgreSqlJobStore
{
    // Rescued jobs waiting for the dispatcher; held (in _held, so heartbeats keep them) until it settles them.
    private readonly Channel<JobRecord> _rescued = Channel.CreateUnbounded<JobRecord>(new UnboundedChannelOptions { AllowSynchronousContinuations = false });
    private int _rescueOpen;

    public IJobConsumer OpenExpiredLeaseConsumer()
    {
        // From now on the sweeper takes expired leases over; look at once for those a crashed predecessor left.
        Volatile.Write(ref _rescueOpen, 1);
        RunSweep();
        return new LeasedJobConsumer(_rescued, static _ => { }, static () => { }, StillHolds);
    }

    /// <summary>
    /// Takes over up to <see cref="SweepBatch"/> leases that expired without a heartbeat, of this process's queues, and
    /// queues them for the dispatcher; returns how many. A lease this very process still holds is alive (its heartbeat
    /// was only late), so it is extended instead. Rows locked by another process (its own takeover, a late completion)
    /// are skipped, and the takeover rechecks the expiry, so each expired lease is taken over by one process only.
    /// </summary>
    private async Task<int> TakeOverExpiredAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _rescueOpen) == 0)
        {
            return 0;
        }

        var now = _time.GetUtcNow().UtcTicks;
        var expires = AddTicks(now, _options.LeaseDuration);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var held = _held.ToArray();
        var late = held.Where(h => ((PostgreSqlLease)h.Value.StoreData!).Expires <= now).OrderBy(h => h.Key).ToArray();
        if (late.Length > 0)
        {
            await ExtendAsync(connection, late, expires, cancellationToken).ConfigureAwait(false);
        }

        var rows = new List<(StoredJobRow Row, long Token, bool Isolated, string Queue, bool Started)>();
        using (var command = new NpgsqlCommand(_sql.TakeOverExpired, connection)
            .Long("now", now)
            .Long("expires", expires)
            .Int("limit", SweepBatch)
            .Array("queues", NpgsqlDbType.Text, _queueList.Select(q => q.Name).ToArray())
            .Array("held_seqs", NpgsqlDbType.Bigint, held.Select(h => h.Key).ToArray())
            .Array("held_tokens", NpgsqlDbType.Bigint, held.Select(h => ((PostgreSqlLease)h.Value.StoreData!).Token).ToArray()))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((StoredJobRow.ReadLeased(new NpgsqlRowReader(reader)), reader.GetInt64(12), reader.GetBoolean(13), reader.GetString(19), reader.GetBoolean(20)));
            }
        }

        foreach (var (row, token, isolated, queueName, started) in rows.OrderBy(r => r.Row.Seq))
        {
            var queue = _queues[queueName];
            var lease = new PostgreSqlLease(this, queue, row.Seq, token);
            var record = ToRecord(row, queue.Name, lease);
            record.Isolated = isolated;
            record.StartRecorded = started;
            Hold(record, lease, expires);
            _rescued.Writer.TryWrite(record);
        }

        return rows.Count;
    }

    /// <summary>
    /// Extends some of this process's leases (the heartbeat's statement); one found lost is forgotten. A job whose cancel
    /// another process requested (<see cref="CancelAsync"/>) learns it here, if no notification told it before.
    /// </summary>
    private async Task ExtendAsync(NpgsqlConnection connection, KeyValuePair<long, JobRecord>[] held, long expires, CancellationToken cancellationToken)
    {
        var extended = new HashSet<long>();
        HashSet<long>? cancelled = null;
        using (var command = new NpgsqlCommand(_sql.Heartbeat, connection)
            .Long("expires", expires)
            .Array("seqs", NpgsqlDbType.Bigint, held.Select(h => h.Key).ToArray())
            .Array("tokens", NpgsqlDbType.Bigint, held.Select(h => ((PostgreSqlLease)h.Value.StoreData!).Token).ToArray()))
        using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                extended.Add(reader.GetInt64(0));
                if (reader.GetBoolean(1))
                {
                    (cancelled ??= []).Add(reader.GetInt64(0));
                }
            }
        }

        foreach (var (seq, job) in held)
        {
            var lease = (PostgreSqlLease)job.StoreData!;
            if (extended.Contains(seq))
            {
                SetExpiry(job, lease, expires);
                if (cancelled?.Contains(seq) == true)
                {
                    CancellationRequests.Deliver(job);
                }
            }
            else
            {
                // Lost: rescued by another process. A worker that takes it from the buffer skips it.
                Forget(lease, job);
            }
        }
    }
}
