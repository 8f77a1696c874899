using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// The statuses of the jobs one worker finished (succeeded or cancelled), kept for a store that keeps none itself
/// (the in-memory one): a ring of structs, so recording a job allocates nothing, bounded by the worker's share of
/// <see cref="QueueOptions.FinishedJobCapacity"/> and read back within <see cref="QueueOptions.FinishedJobRetention"/>.
/// </summary>
/// <remarks>
/// One writer (the worker) and any number of readers (status lookups), without a lock: each slot carries a version
/// that the writer makes odd while it writes, so a reader that saw an odd or changed version reads the slot again.
/// A plain job's slot holds its values; any other job's slot holds its record, which nothing reuses.
/// </remarks>
internal sealed class FinishedJobs
{
    private const int InitialSize = 64;

    private readonly int _capacity;
    private readonly long _retentionTicks;
    private Slot[] _slots;
    private int _next;

    public FinishedJobs(int capacity, TimeSpan retention)
    {
        _capacity = capacity;
        _retentionTicks = retention.Ticks;
        _slots = new Slot[Math.Min(InitialSize, capacity)];
    }

    /// <summary>Records a finished job; returns whether a status still within its retention was evicted to make room.</summary>
    public bool Record(JobRecord job, JobState state, long finishedTicks)
    {
        var slots = _slots;
        var index = _next;
        if (index == slots.Length)
        {
            if (slots.Length < _capacity)
            {
                // Grown by doubling up to the capacity: a queue that runs few jobs never holds a full ring.
                var grown = new Slot[Math.Min(_capacity, slots.Length * 2)];
                Array.Copy(slots, grown, slots.Length);
                Volatile.Write(ref _slots, grown);
                slots = grown;
            }
            else
            {
                index = 0;
            }
        }

        ref var slot = ref slots[index];
        var evicted = slot.Version != 0 && slot.FinishedTicks + _retentionTicks > finishedTicks;
        var version = slot.Version;
        Volatile.Write(ref slot.Version, version + 1);
        slot.Id = job.Id;
        slot.FinishedTicks = finishedTicks;
        slot.EnqueuedTicks = job.EnqueuedAt.UtcTicks;
        slot.Attempt = job.Attempt;
        slot.State = state;

        // References are written only when they change: a reference store into this long-lived array is a GC write
        // barrier, and a queue's jobs mostly share one kind and have no detail.
        if (!ReferenceEquals(slot.Kind, job.Kind))
        {
            slot.Kind = job.Kind;
        }

        object? detail = job.IsReused ? job.Result : job;
        if (!ReferenceEquals(slot.Detail, detail))
        {
            slot.Detail = detail;
        }

        Volatile.Write(ref slot.Version, version + 2);
        _next = index + 1;
        return evicted;
    }

    /// <summary>Finds a job's status, or <see langword="null"/> when this worker kept none for it (or it is past its retention).</summary>
    public JobInfo? Find(JobId id, string queue, long nowTicks)
    {
        var slots = Volatile.Read(ref _slots);
        for (var i = 0; i < slots.Length; i++)
        {
            ref var slot = ref slots[i];
            while (true)
            {
                var version = Volatile.Read(ref slot.Version);
                if (version == 0 || slot.Id != id)
                {
                    break;
                }

                var copy = slot;
                if ((version & 1) != 0 || Volatile.Read(ref slot.Version) != version)
                {
                    Thread.SpinWait(1);
                    continue;
                }

                return copy.FinishedTicks + _retentionTicks < nowTicks ? null : Describe(copy, queue);
            }
        }

        return null;
    }

    private static JobInfo Describe(in Slot slot, string queue)
    {
        var record = slot.Detail as JobRecord;
        return new JobInfo(slot.Id, queue, slot.Kind!, slot.State, new DateTimeOffset(slot.EnqueuedTicks, TimeSpan.Zero))
        {
            Attempt = slot.Attempt,
            FinishedAt = new DateTimeOffset(slot.FinishedTicks, TimeSpan.Zero),
            Result = record?.Result ?? slot.Detail as string,
            Priority = record?.Priority ?? JobPriority.Normal,
            MaxAttempts = record?.MaxAttempts,
            IdempotencyKey = record?.IdempotencyKey,
            Errors = record?.Errors ?? [],
        };
    }

    private struct Slot
    {
        public int Version;
        public JobId Id;
        public long EnqueuedTicks;
        public long FinishedTicks;
        public int Attempt;
        public JobState State;
        public string? Kind;
        public object? Detail;
    }
}
