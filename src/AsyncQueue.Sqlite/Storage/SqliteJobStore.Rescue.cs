using System.Threading.Channels;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>
/// The takeover of expired leases: the sweeper finds each lease that expired without a heartbeat (its process crashed,
/// was killed or stalled), takes it over under a new lease of this process, and hands it to the dispatcher, which
/// decides its fate. The store decides nothing about it.
/// </summary>
internal sealed partial class SqliteJobStore
{
    private const int RescueBatch = 256;

    // The queues this process runs, as JSON for the rescue query's json_each: a job of a queue no worker here runs is
    // left to a process that runs it, so that nothing is taken over that this process cannot settle.
    private readonly string _queueNamesJson;

    // Jobs taken over and not yet fetched by the dispatcher. Only the writer loop writes, after the commit.
    private readonly Channel<JobRecord> _expired = Channel.CreateUnbounded<JobRecord>(new UnboundedChannelOptions
    {
        SingleWriter = true,
        AllowSynchronousContinuations = false,
    });

    // Leases are taken over only once a consumer is open: a process without a dispatcher would hold them unsettled.
    private volatile bool _rescuing;

    public IJobConsumer OpenExpiredLeaseConsumer()
    {
        _rescuing = true;
        RequestSweep();

        // Nothing to count or to ask for: the sweeper fills the channel on its own timer.
        return new LeasedJobConsumer(_expired, static _ => { }, static () => { }, StillHolds);
    }

    private void RequestSweep()
    {
        if (_sweep.TrySetPending())
        {
            Post(_sweep);
        }
    }

    /// <summary>
    /// Takes over every expired lease of this process's queues: a fenced update sets a new token (the lost holder's
    /// later writes fail) and a fresh expiry, and leaves the attempt and its started flag as they were, so the
    /// dispatcher learns which attempt was lost and whether it had started. A job this very process still holds is
    /// alive (its heartbeat was only late), so its lease is extended instead.
    /// </summary>
    private void RescueExpiredLeases(WriteCycle cycle)
    {
        var expires = AddTicks(cycle.NowTicks, _options.LeaseDuration);
        while (true)
        {
            var expired = new List<(long Seq, string Queue, long Token)>();
            using (var reader = _sql.ExpiredLeases.Query(cycle.NowTicks, _queueNamesJson, RescueBatch))
            {
                while (reader.Read())
                {
                    expired.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
                }
            }

            var skipped = false;
            foreach (var (seq, queue, token) in expired)
            {
                if (_held.TryGetValue(seq, out var mine) && ((SqliteLease)mine.StoreData!).Token == token)
                {
                    _sql.Heartbeat.Execute(expires, seq, token);
                    cycle.AfterCommit(() => mine.LeaseExpiresAt = FromTicks(expires));
                }
                else if (_rescuing && !_closing)
                {
                    TakeOver(seq, _queues[queue], token, expires, cycle);
                }
                else
                {
                    skipped = true;
                }
            }

            // A skipped lease stays expired, so the same batch would come back: stop until the next sweep.
            if (expired.Count < RescueBatch || skipped)
            {
                return;
            }
        }
    }

    private void TakeOver(long seq, SqliteQueue queue, long lostToken, long expires, WriteCycle cycle)
    {
        var token = cycle.Fence(_sql);
        StoredJobRow row;
        using (var reader = _sql.TakeOver.Query(token, expires, seq, lostToken))
        {
            if (!reader.Read())
            {
                return;
            }

            row = StoredJobRow.Read(reader);
        }

        var record = RecordOf(row, queue, new SqliteLease(this, queue, seq, token, TakenOver: true), expires);
        cycle.AfterCommit(() =>
        {
            // Held before the dispatcher can take it, so the heartbeat covers it until it is settled.
            _held[seq] = record;
            _expired.Writer.TryWrite(record);
        });
    }

    /// <summary>At dispose: jobs taken over and never settled get their lease expired again, for the next rescue anywhere.</summary>
    private List<Task> ExpireUnsettledRescues()
    {
        var expiring = new List<Task>();
        while (_expired.Reader.TryRead(out var job))
        {
            var lease = (SqliteLease)job.StoreData!;
            expiring.Add(RunAsync("expire unsettled rescue", cycle =>
            {
                var expired = _sql.ExpireLease.Execute(lease.Seq, lease.Token);
                cycle.AfterCommit(() => Forget(lease.Seq, job));
                return expired;
            }).AsTask());
        }

        return expiring;
    }

    private void CloseRescue() =>
        _expired.Writer.TryComplete(new ObjectDisposedException(nameof(SqliteJobStore), "The SQLite job store is closed."));
}
