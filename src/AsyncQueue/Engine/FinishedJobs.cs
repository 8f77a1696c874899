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
/// A slot holds the job's values and no reference to its record or its value, so a kept status keeps no job alive.
/// </remarks>
internal sealed class FinishedJobs
{
    private const int InitialSize = 64;

    private static readonly bool WeakStoreOrder =
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture is not (System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.X86);

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
        // No field write below may be seen before the odd version. x86 and x64 keep stores in order; elsewhere (ARM64)
        // a fence does it. The flag is static readonly, so the JIT drops the branch where it is false.
        Volatile.Write(ref slot.Version, version + 1);
        if (WeakStoreOrder)
        {
            Interlocked.MemoryBarrier();
        }
        slot.Id = job.Id;
        slot.FinishedTicks = finishedTicks;
        slot.EnqueuedTicks = job.EnqueuedAt.UtcTicks;
        slot.Attempt = job.Attempt;
        slot.State = state;

        slot.Priority = job.Priority;
        slot.MaxAttempts = job.MaxAttempts ?? 0;

        // References are written only when they change: a reference store into this long-lived array is a GC write
        // barrier. The record itself is never kept: it would keep the job value alive, and with it every young object
        // the job refers to, for the whole retention.
        Write(ref slot.Kind, job.Kind);
        Write(ref slot.IdempotencyKey, job.IdempotencyKey);
        Write(ref slot.Result, job.Result);
        Write(ref slot.Errors, job.IsReused || job.Errors.Count == 0 ? null : job.Errors);
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
                Interlocked.MemoryBarrier();
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

    private static JobInfo Describe(in Slot slot, string queue) =>
        new(slot.Id, queue, slot.Kind!, slot.State, new DateTimeOffset(slot.EnqueuedTicks, TimeSpan.Zero))
        {
            Attempt = slot.Attempt,
            FinishedAt = new DateTimeOffset(slot.FinishedTicks, TimeSpan.Zero),
            Result = slot.Result,
            Priority = slot.Priority,
            MaxAttempts = slot.MaxAttempts == 0 ? null : slot.MaxAttempts,
            IdempotencyKey = slot.IdempotencyKey,
            Errors = slot.Errors is { } errors ? [.. errors] : [],
        };

    private static void Write<T>(ref T? field, T? value)
        where T : class
    {
        if (!ReferenceEquals(field, value))
        {
            field = value;
        }
    }

    private struct Slot
    {
        public int Version;
        public JobId Id;
        public long EnqueuedTicks;
        public long FinishedTicks;
        public int Attempt;
        public int MaxAttempts;
        public JobState State;
        public JobPriority Priority;
        public string? Kind;
        public string? IdempotencyKey;
        public string? Result;
        public IReadOnlyList<JobError>? Errors;
    }
}
