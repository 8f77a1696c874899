using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;

namespace AsyncQueue.Sqlite.Storage;

/// <summary>Leases with fencing: the consumers, the lease step (ordinary jobs in batches, isolated ones alone), heartbeats.</summary>
internal sealed partial class SqliteJobStore
{
    // The isolated job this store holds, or null: while one is held, no other is leased. Read and written only on the
    // writer loop (in its transactions and in what they publish after the commit), so it needs no lock.
    private JobRecord? _isolatedHeld;

    public IJobConsumer OpenConsumer(string queue)
    {
        var state = GetQueue(queue);
        return new LeasedJobConsumer(state.Ready, state.AddWaiting, RequestWake, job =>
        {
            // Every job a consumer takes passes here once, whether it still holds or not.
            state.Taken();
            return StillHolds(job);
        });
    }

    /// <summary>
    /// Whether a leased job still belongs to this process: one that waited untaken while a stall let its lease lapse
    /// (and another process rescued it) must not start here too.
    /// </summary>
    internal bool StillHolds(JobRecord job) =>
        _held.TryGetValue(((SqliteLease)job.StoreData!).Seq, out var held) && ReferenceEquals(held, job);

    /// <summary>Asks the writer loop to lease for waiting workers (after a fetch found nothing, or a timer fired).</summary>
    internal void RequestWake()
    {
        if (_wake.TrySetPending())
        {
            Post(_wake);
        }
    }

    private void RequestHeartbeat()
    {
        if (!_held.IsEmpty && _heartbeat.TrySetPending())
        {
            Post(_heartbeat);
        }
    }

    /// <summary>
    /// Leases, for each queue, as many due jobs as this process's workers are about to take: those waiting in a fetch,
    /// plus one for each job settled in this cycle (its worker fetches next), less what is already leased and untaken.
    /// One query per queue leases them all, oldest due first. An isolated job is leased alone, and only while this store
    /// holds no other: before the ordinary jobs when it fell due before all of them, else with the demand they left.
    /// </summary>
    /// <remarks>
    /// Leasing no further ahead than that keeps the jobs of a crashed process few: a leased job waits in the Ready
    /// channel only for the moment between a settle and the worker's next fetch.
    /// </remarks>
    private void LeaseForDemand(WriteCycle cycle)
    {
        if (_closing)
        {
            return;
        }

        foreach (var queue in _queueList)
        {
            var demand = queue.Waiting + cycle.Settled[queue.Index] - queue.Untaken;
            if (demand <= 0)
            {
                continue;
            }

            // A rate-limited queue leases no more than its window has left, counted across processes.
            var permits = PermitsLeft(queue, cycle);
            if (permits == 0)
            {
                continue;
            }

            var wantedInAll = demand = Math.Min(demand, permits);

            // An isolated job goes first when it is the oldest due job of the queue, else with the demand left over.
            if (demand > 0 && MayLeaseIsolated(cycle))
            {
                demand -= LeaseRows(queue, 1, LeaseKind.OldestIsolated, cycle);
            }

            while (demand > 0)
            {
                var wanted = Math.Min(demand, _options.FetchBatchSize);
                var leased = LeaseRows(queue, wanted, LeaseKind.Ordinary, cycle);
                demand -= leased;
                if (leased < wanted)
                {
                    break;
                }
            }

            if (demand > 0 && MayLeaseIsolated(cycle))
            {
                demand -= LeaseRows(queue, 1, LeaseKind.Isolated, cycle);
            }

            if (permits != int.MaxValue && wantedInAll > demand)
            {
                _sql.RateCount.Execute(queue.Name, queue.Options.RateLimit!.WindowOf(cycle.Now), wantedInAll - demand);
            }
        }
    }

    /// <summary>Whether this cycle may lease an isolated job: the store holds none (or settled it in this cycle), and the cycle leased none yet.</summary>
    private bool MayLeaseIsolated(WriteCycle cycle) => (_isolatedHeld is null || cycle.IsolatedReleased) && !cycle.IsolatedLeased;

    /// <summary>Leases up to <paramref name="limit"/> due jobs of a queue (or its one oldest isolated job) for its workers; returns how many.</summary>
    private int LeaseRows(SqliteQueue queue, int limit, LeaseKind kind, WriteCycle cycle)
    {
        var isolated = kind != LeaseKind.Ordinary;
        var token = cycle.Fence(_sql);

        // The expiry the records carry is computed before the write, so it is never later than the row's.
        var expires = AddTicks(cycle.NowTicks, _options.LeaseDuration);
        var rows = new List<StoredJobRow>(limit);
        using (var reader = isolated
            ? _sql.LeaseIsolated.Query(token, expires, queue.Name, cycle.NowTicks, kind == LeaseKind.OldestIsolated ? 1 : 0)
            : _sql.Lease.Query(token, expires, queue.Name, cycle.NowTicks, limit))
        {
            while (reader.Read())
            {
                rows.Add(StoredJobRow.Read(reader));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        // RETURNING promises no order: hand the jobs out most urgent first, then oldest due, in enqueue order among equals.
        rows.Sort(static (a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority) : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt) : a.Seq.CompareTo(b.Seq));
        var ready = new List<JobRecord>(rows.Count);
        foreach (var row in rows)
        {
            ready.Add(RecordOf(row, queue, new SqliteLease(this, queue, row.Seq, token), expires));
        }

        if (isolated)
        {
            cycle.IsolatedLeased = true;
        }

        cycle.AfterCommit(() =>
        {
            queue.Handed(ready.Count);
            foreach (var record in ready)
            {
                // Held before a worker can take it, so the heartbeat covers it from the start.
                _held[((SqliteLease)record.StoreData!).Seq] = record;
                queue.Ready.Writer.TryWrite(record);
            }

            if (isolated)
            {
                _isolatedHeld = ready[0];
            }

            queue.SignalRoomFreed();
        });

        return ready.Count;
    }

    /// <summary>
    /// The record of a leased row. A row that cannot be read (its kind has no handler, its payload does not
    /// deserialize, a foreign writer damaged it) is handed out all the same, as an <see cref="UnreadableJob"/> that the
    /// dispatcher dead-letters.
    /// </summary>
    private JobRecord RecordOf(StoredJobRow row, SqliteQueue queue, SqliteLease lease, long leaseExpires)
    {
        JobRecord record;
        try
        {
            record = row.ToRecord(queue.Name, _payloads.Read(row.Kind, row.Payload), lease);
        }
        catch (ArgumentException ex)
        {
            // A row a foreign writer damaged (an empty kind, say) must not stop the lease step for every other job.
            var kind = string.IsNullOrEmpty(row.Kind) ? "(none)" : row.Kind;
            var job = new UnreadableJob(kind, row.Payload, $"The stored row cannot be read: {ex.Message}", ex.GetType().FullName!);
            record = (row with { Kind = kind }).ToRecord(queue.Name, job, lease);
        }

        record.LeaseExpiresAt = FromTicks(leaseExpires);
        return record;
    }

    /// <summary>
    /// Extends the lease of every job this process holds; a lease found lost (rescued elsewhere) is forgotten. A job whose
    /// cancel another process requested (<see cref="CancelAsync"/>) learns it here: its record is told after the commit.
    /// </summary>
    private void Heartbeat(WriteCycle cycle)
    {
        var expires = AddTicks(cycle.NowTicks, _options.LeaseDuration);
        List<JobRecord>? extended = null;
        List<JobRecord>? cancelled = null;
        List<KeyValuePair<long, JobRecord>>? lost = null;
        foreach (var held in _held)
        {
            var lease = (SqliteLease)held.Value.StoreData!;
            using var reader = _sql.Heartbeat.Query(expires, lease.Seq, lease.Token);
            if (!reader.Read())
            {
                (lost ??= []).Add(held);
                continue;
            }

            (extended ??= []).Add(held.Value);
            if (reader.GetBoolean(0))
            {
                (cancelled ??= []).Add(held.Value);
            }
        }

        cycle.AfterCommit(() =>
        {
            foreach (var record in extended ?? [])
            {
                record.LeaseExpiresAt = FromTicks(expires);
            }

            foreach (var record in cancelled ?? [])
            {
                CancellationRequests.Deliver(record);
            }

            foreach (var held in lost ?? [])
            {
                Forget(held.Key, held.Value);
            }
        });
    }

    /// <summary>Forgets a job this process no longer holds (settled, or its lease lost); on the writer loop, after a commit.</summary>
    private void Forget(long seq, JobRecord job)
    {
        _held.TryRemove(new KeyValuePair<long, JobRecord>(seq, job));
        if (ReferenceEquals(_isolatedHeld, job))
        {
            _isolatedHeld = null;
        }
    }

    private enum LeaseKind
    {
        /// <summary>Due jobs that are not isolated, oldest first.</summary>
        Ordinary,

        /// <summary>The oldest due isolated job, if it fell due before every ordinary job waiting.</summary>
        OldestIsolated,

        /// <summary>The oldest due isolated job.</summary>
        Isolated,
    }
}
