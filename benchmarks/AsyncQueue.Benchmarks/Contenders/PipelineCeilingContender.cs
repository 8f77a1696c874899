using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using AsyncQueue.Diagnostics;
using AsyncQueue.Idempotency;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// A ceiling, not a peer: the full pipeline's features (<see cref="FullPipeline"/>) written by hand around an unbounded
/// <see cref="Channel{T}"/>, with nothing else. Per job the producer makes the same key string, claims its 128-bit
/// fingerprint in a table of its own and reads the clock; each reader creates a DI scope from a
/// <see cref="ServiceProvider"/>, resolves the scoped <see cref="NoOpHandler"/>, calls it inside a try/catch (the retry
/// policy's happy path), reads the clock twice, records the engine's counters and histograms (the same
/// <see cref="JobQueueMetrics"/>, listened to by the same <see cref="PipelineMetrics"/>) and disposes the scope.
/// </summary>
/// <remarks>
/// <para>
/// Why it exists: issue 16 asks the full pipeline for 5x Wolverine. Whether any queue with those features can reach it
/// on this machine is a question for the same interleaved run: if this contender, which pays for the features and for
/// nothing else, stays below 5x, the target is bound by the features the issue names; the full pipeline's ratio to it
/// is what the engine itself costs. Nothing here is meant for the library.
/// </para>
/// <para>
/// The keys keep the engine's guarantee: a claimed key refuses its duplicates while its job is live and, once it
/// succeeded, for the retention (24 h) unless more than 1,000,000 newer succeeded keys are held (kept to within
/// 1,024; the engine drops a generation of up to a quarter at a time). Keys are kept in claim order in a ring of
/// chunks (the 128-bit fingerprint and the time its job succeeded, written by the reader), and the producer, under a
/// lock (uncontended with one producer, correct with more), drops keys from the oldest end: succeeded ones only,
/// expired or beyond the bound. An index finds a key's entry: buckets of one cache line, seven words each of a 31-bit
/// tag of the fingerprint and the claim's number, so a claim reads and writes one line far out of cache; a word whose
/// claim was dropped from the ring is free, so nothing is ever removed from the index, and a tag that matches is
/// checked against the ring's full fingerprint. Nothing in either holds a reference for the collector to trace. A
/// job whose every attempt fails releases its key, as the engine does when it dead-letters.
/// </para>
/// <para>
/// <c>--measure ... --without scope,idempotency,metrics</c> switches its parts off as it does the full pipeline's
/// (<see cref="FullPipeline.Without"/>): a singleton handler resolved once, no key, no listener (so no clock read;
/// without a clock, retained keys leave by the bound only).
/// </para>
/// </remarks>
internal sealed class PipelineCeilingContender : IContender
{
    private const int RetainedBound = 1_000_000;
    private const int BoundSlack = 1_024;
    private const int MaxAttempts = 3;
    private const long Released = -1;

    private static readonly long Retention = (long)(TimeSpan.FromHours(24).TotalSeconds * Stopwatch.Frequency);
    private static readonly double SecondsPerTimestamp = 1.0 / Stopwatch.Frequency;
    private static readonly string Kind = JobHandlerDescriptorKind();
    private static readonly KeyValuePair<string, object?> SystemTag = JobQueueMetrics.SystemTag;
    private static readonly KeyValuePair<string, object?> QueueTag = JobQueueMetrics.QueueTag(Kind);
    private static readonly KeyValuePair<string, object?> KindTag = JobQueueMetrics.KindTag(Kind);
    private static readonly KeyValuePair<string, object?> SendTag = JobQueueMetrics.OperationTag(JobQueueMetrics.SendOperation);
    private static readonly KeyValuePair<string, object?> ProcessTag = JobQueueMetrics.OperationTag(JobQueueMetrics.ProcessOperation);

    private readonly Channel<Item> _channel = Channel.CreateUnbounded<Item>();
    private readonly ServiceProvider _services;
    private readonly IServiceScopeFactory _scopes;
    private readonly IJobHandler<Job>? _singleton;
    private readonly bool _keyed = !FullPipeline.Without.Contains("idempotency");
    private readonly JobQueueMetrics _metrics;
    private readonly int _workers;
    private readonly Lock _gate = new();
    private readonly Queue<Chunk> _chunks = new();
    private readonly Dictionary<long, Chunk> _chunkByNumber = [];
    private readonly Stack<Chunk> _free = new();

    // Jobs succeeded, one counter per reader, 128 bytes apart: the producer sums them to know how many keys it retains.
    private readonly long[] _succeeded;
    private Task[] _loops = [];
    private long _sequence;

    // The ring, under _gate: the newest entry's chunk and the next free index in it; the oldest entry's index in _chunks.Peek().
    private Chunk _head;
    private int _headIndex;
    private int _tailIndex;
    private long _claimed;
    private long _dropped;
    private long _droppedRetained;
    private long _succeededSeen;
    private long _succeededSeenAt;

    // The index, under _gate: buckets of 8 words (one cache line); word 0 is 1 once an add passed the bucket full.
    private long[] _index = new long[(1 << 16) * 8];
    private int _bucketMask = (1 << 16) - 1;
    private int _passedFull;

    public PipelineCeilingContender(int workers)
    {
        _workers = workers;
        _succeeded = new long[(workers + 1) * 16];
        var services = new ServiceCollection();
        services.AddSingleton(Completion);
        services.AddScoped<IJobHandler<Job>, NoOpHandler>();
        services.AddMetrics();
        services.AddSingleton<PipelineMetrics>();
        _services = services.BuildServiceProvider();
        if (!FullPipeline.Without.Contains("metrics"))
        {
            _services.GetRequiredService<PipelineMetrics>();
        }

        _scopes = _services.GetRequiredService<IServiceScopeFactory>();
        _singleton = FullPipeline.ScopePerJob ? null : new NoOpHandler(Completion);
        _metrics = new JobQueueMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _head = new Chunk();
        _chunks.Enqueue(_head);
        _chunkByNumber.Add(0, _head);
    }

    public Completion Completion { get; } = new();

    public Task StartAsync()
    {
        _loops = [.. Enumerable.Range(0, _workers).Select(worker => Task.Run(() => ReadLoopAsync(worker)))];
        return Task.CompletedTask;
    }

    public ValueTask EnqueueAsync(Job job)
    {
        var now = _metrics.TimingEnabled ? Stopwatch.GetTimestamp() : 0;
        if (!_keyed)
        {
            return Send(new Item(job, now, _head, 0, 1));
        }

        // The key the full pipeline's producer makes (FullPipeline.EnqueueOptions), from a sequence of this contender's own.
        var key = string.Create(CultureInfo.InvariantCulture, $"job-{Interlocked.Increment(ref _sequence)}");
        var hash = KeyHash.Of(key);
        Chunk chunk;
        int index;
        lock (_gate)
        {
            DropOldKeys(now);
            if (!TryIndex(hash, now))
            {
                _metrics.CountSent(Kind, 1, error: null);
                if (_metrics.Duplicates.Enabled)
                {
                    _metrics.Duplicates.Add(1, SystemTag, QueueTag, KindTag);
                }

                return default;
            }

            (chunk, index) = Append(hash.Low, hash.High);
        }

        return Send(new Item(job, now, chunk, index, 1));
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await Task.WhenAll(_loops);
        _metrics.Dispose();
        await _services.DisposeAsync();
    }

    private static string JobHandlerDescriptorKind() => AsyncQueue.Engine.JobHandlerDescriptor.KindOf(typeof(Job));

    private ValueTask Send(Item item)
    {
        if (_metrics.SentMessages.Enabled)
        {
            _metrics.SentMessages.Add(1, SystemTag, QueueTag, SendTag);
        }

        if (_metrics.Enqueued.Enabled)
        {
            _metrics.Enqueued.Add(1, SystemTag, QueueTag, KindTag);
        }

        return _channel.Writer.TryWrite(item) ? default : _channel.Writer.WriteAsync(item);
    }

    private async Task ReadLoopAsync(int worker)
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                var attempt = RunAsync(item, worker);
                if (!attempt.IsCompletedSuccessfully)
                {
                    await attempt.ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>One attempt; no state machine unless the handler or the scope's disposal completes later, or the handler throws.</summary>
    private ValueTask RunAsync(Item item, int worker)
    {
        if (_metrics.ConsumedMessages.Enabled)
        {
            _metrics.ConsumedMessages.Add(1, SystemTag, QueueTag, ProcessTag);
        }

        var started = _metrics.TimingEnabled ? Stopwatch.GetTimestamp() : 0;
        if (_metrics.QueueWait.Enabled)
        {
            _metrics.QueueWait.Record(Math.Max(0, (started - item.EnqueuedAt) * SecondsPerTimestamp), SystemTag, QueueTag, KindTag);
        }

        // --without scope: the singleton handler, no scope.
        AsyncServiceScope? scope = _singleton is null ? _scopes.CreateAsyncScope() : null;
        ValueTask attempt;
        try
        {
            var handler = scope is { } created ? created.ServiceProvider.GetRequiredService<IJobHandler<Job>>() : _singleton!;
            attempt = new ValueTask(handler.HandleAsync(item.Job, default, CancellationToken.None));
        }
#pragma warning disable CA1031 // As in the engine: a handler that throws fails its attempt, whatever it throws.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            attempt = ValueTask.FromException(ex);
        }

        if (!attempt.IsCompletedSuccessfully)
        {
            return FinishAsync(attempt, scope, item, started, worker);
        }

        var disposing = scope?.DisposeAsync() ?? default;
        if (!disposing.IsCompletedSuccessfully)
        {
            return SucceedAfterAsync(disposing, item, started, worker);
        }

        Succeed(item, started, worker);
        return default;
    }

    private async ValueTask FinishAsync(ValueTask attempt, AsyncServiceScope? scope, Item item, long started, int worker)
    {
        try
        {
            await attempt.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // As above.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (scope is { } created)
            {
                await created.DisposeAsync().ConfigureAwait(false);
            }

            await FailAsync(item, ex).ConfigureAwait(false);
            return;
        }

        await SucceedAfterAsync(scope?.DisposeAsync() ?? default, item, started, worker).ConfigureAwait(false);
    }

    private async ValueTask SucceedAfterAsync(ValueTask disposing, Item item, long started, int worker)
    {
        await disposing.ConfigureAwait(false);
        Succeed(item, started, worker);
    }

    private void Succeed(Item item, long started, int worker)
    {
        var ended = _metrics.TimingEnabled ? Stopwatch.GetTimestamp() : 1;
        if (_metrics.Completed.Enabled)
        {
            _metrics.Completed.Add(1, SystemTag, QueueTag, KindTag);
        }

        if (_metrics.EndToEnd.Enabled)
        {
            _metrics.EndToEnd.Record((ended - item.EnqueuedAt) * SecondsPerTimestamp, SystemTag, QueueTag, KindTag);
        }

        if (_metrics.ProcessDuration.Enabled)
        {
            _metrics.ProcessDuration.Record((ended - started) * SecondsPerTimestamp, new TagList { SystemTag, QueueTag, KindTag, ProcessTag });
        }

        // The key is retained from here: the producer may drop it once it is expired or beyond the bound.
        if (!_keyed)
        {
            return;
        }

        ref var succeeded = ref _succeeded[(worker + 1) * 16];
        Volatile.Write(ref succeeded, succeeded + 1);
        Volatile.Write(ref item.Chunk.Entries[item.Index].SucceededAt, ended);
    }

    /// <summary>The retry policy's other path (never taken here): three attempts, exponential from 10 ms, then the key released.</summary>
    private async Task FailAsync(Item item, Exception exception)
    {
        if (_metrics.FailedAttempts.Enabled)
        {
            _metrics.FailedAttempts.Add(1, new TagList { SystemTag, QueueTag, KindTag, JobQueueMetrics.ErrorTypeTag(exception) });
        }

        if (item.Attempt < MaxAttempts)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10 << (item.Attempt - 1))).ConfigureAwait(false);
            await _channel.Writer.WriteAsync(item with { Attempt = item.Attempt + 1 }).ConfigureAwait(false);
            return;
        }

        if (!_keyed)
        {
            return;
        }

        // The index keeps its word: a match finds the entry released.
        Volatile.Write(ref item.Chunk.Entries[item.Index].SucceededAt, Released);
    }

    /// <summary>Under <see cref="_gate"/>: drops the oldest keys while their jobs succeeded and they expired or exceed the bound.</summary>
    private void DropOldKeys(long now)
    {
        while (_claimed > _dropped)
        {
            if (_tailIndex == Chunk.Size)
            {
                // The oldest chunk is spent, and a newer one holds the next entry: no reader writes to it any more.
                var spent = _chunks.Dequeue();
                _chunkByNumber.Remove((_dropped >> 16) - 1);
                _free.Push(spent);
                _tailIndex = 0;
            }

            ref var oldest = ref _chunks.Peek().Entries[_tailIndex];
            var succeededAt = Volatile.Read(ref oldest.SucceededAt);
            if (succeededAt == 0)
            {
                // A live key is never dropped, and nothing newer before it.
                return;
            }

            if (succeededAt != Released)
            {
                if (now - succeededAt <= Retention && !BeyondBound())
                {
                    return;
                }

                _droppedRetained++;
            }

            _tailIndex++;
            _dropped++;
        }
    }

    /// <summary>Whether more than <see cref="RetainedBound"/> succeeded keys are held; counted from the readers' counters at most once per <see cref="BoundSlack"/> claims.</summary>
    private bool BeyondBound()
    {
        if (_succeededSeen - _droppedRetained > RetainedBound)
        {
            return true;
        }

        if (_claimed - _succeededSeenAt < BoundSlack)
        {
            return false;
        }

        long succeeded = 0;
        for (var worker = 0; worker < _workers; worker++)
        {
            succeeded += Volatile.Read(ref _succeeded[(worker + 1) * 16]);
        }

        _succeededSeen = succeeded;
        _succeededSeenAt = _claimed;
        return _succeededSeen - _droppedRetained > RetainedBound;
    }

    /// <summary>Under <see cref="_gate"/>: the newest entry of the ring.</summary>
    private (Chunk Chunk, int Index) Append(ulong low, ulong high)
    {
        if (_headIndex == Chunk.Size)
        {
            _head = _free.Count > 0 ? _free.Pop() : new Chunk();
            _chunks.Enqueue(_head);
            _chunkByNumber.Add(_claimed >> 16, _head);
            _headIndex = 0;
        }

        ref var entry = ref _head.Entries[_headIndex];
        entry.Low = low;
        entry.High = high;
        entry.SucceededAt = 0;
        _claimed++;
        return (_head, _headIndex++);
    }

    /// <summary>A job in the channel: the job, its enqueue timestamp, its key's entry in the ring, its attempt.</summary>
    private readonly record struct Item(Job Job, long EnqueuedAt, Chunk Chunk, int Index, int Attempt);

    /// <summary>A key in the ring: its fingerprint and when its job succeeded (0 while live, <see cref="Released"/> if released).</summary>
    private struct Entry
    {
        public ulong Low;
        public ulong High;
        public long SucceededAt;
    }

    private sealed class Chunk
    {
        public const int Size = 1 << 16;

        public readonly Entry[] Entries = new Entry[Size];
    }

    /// <summary>
    /// Under <see cref="_gate"/>: false when a held key has this fingerprint; else indexes it as the claim about to be
    /// appended. Its bucket, and the buckets after it while an add passed them full, hold every word of its key.
    /// </summary>
    private bool TryIndex(KeyHash hash, long now)
    {
        var held = _claimed - _dropped;
        if ((held + 1) * 3 > (long)(_bucketMask + 1) * 7 || _passedFull > (_bucketMask + 1) / 64)
        {
            Rebuild((held + 1) * 3 > (long)(_bucketMask + 1) * 7 ? (_bucketMask + 1) * 2 : _bucketMask + 1);
        }

        var tag = Tag(hash.High);
        var bucket = (int)hash.Low & _bucketMask;
        var free = -1;
        while (true)
        {
            var first = bucket * 8;
            for (var word = first + 1; word < first + 8; word++)
            {
                var value = _index[word];
                if (!IsHeld(value))
                {
                    free = free < 0 ? word : free;
                }
                else if ((uint)(value >> 32) == tag && Holds(NumberOf(value), hash, now))
                {
                    return false;
                }
            }

            if (_index[first] == 0)
            {
                break;
            }

            bucket = (bucket + 1) & _bucketMask;
        }

        if (free < 0)
        {
            free = FreeWordAfter(bucket);
        }

        _index[free] = ((long)tag << 32) | (uint)(_claimed + 1);
        return true;
    }

    /// <summary>The first free word in the buckets after <paramref name="bucket"/>, which is full, marking each full one passed.</summary>
    private int FreeWordAfter(int bucket)
    {
        while (true)
        {
            if (_index[bucket * 8] == 0)
            {
                _index[bucket * 8] = 1;
                _passedFull++;
            }

            bucket = (bucket + 1) & _bucketMask;
            for (var word = (bucket * 8) + 1; word < (bucket * 8) + 8; word++)
            {
                if (!IsHeld(_index[word]))
                {
                    return word;
                }
            }
        }
    }

    /// <summary>A new index of <paramref name="buckets"/> buckets with the words of the claims the ring holds: when the index is a third full, or too many buckets were passed full.</summary>
    private void Rebuild(int buckets)
    {
        _index = new long[buckets * 8];
        _bucketMask = buckets - 1;
        _passedFull = 0;
        for (var number = _dropped + 1; number <= _claimed; number++)
        {
            ref readonly var entry = ref EntryAt(number);
            var bucket = (int)entry.Low & _bucketMask;
            var free = -1;
            for (var word = (bucket * 8) + 1; word < (bucket * 8) + 8 && free < 0; word++)
            {
                free = _index[word] == 0 ? word : -1;
            }

            _index[free < 0 ? FreeWordAfter(bucket) : free] = ((long)Tag(entry.High) << 32) | (uint)number;
        }
    }

    /// <summary>Whether an index word is a claim the ring still holds (numbers after <see cref="_dropped"/>, up to <see cref="_claimed"/>).</summary>
    private bool IsHeld(long value) => value != 0 && (uint)((uint)_claimed - (uint)value) < (ulong)(_claimed - _dropped);

    /// <summary>The claim number of a held word, from its low 32 bits.</summary>
    private long NumberOf(long value) => _claimed - (uint)((uint)_claimed - (uint)value);

    /// <summary>Whether claim <paramref name="number"/> is this key's and still holds it: live, or succeeded within the retention.</summary>
    private bool Holds(long number, KeyHash hash, long now)
    {
        ref var entry = ref EntryAt(number);
        if (entry.Low != hash.Low || entry.High != hash.High)
        {
            return false;
        }

        var succeededAt = Volatile.Read(ref entry.SucceededAt);
        return succeededAt == 0 || (succeededAt != Released && now - succeededAt <= Retention);
    }

    private ref Entry EntryAt(long number) => ref _chunkByNumber[(number - 1) >> 16].Entries[(number - 1) & (Chunk.Size - 1)];

    /// <summary>A word's tag: 31 bits of the fingerprint's high half (the bucket comes from the low half), never 0.</summary>
    private static uint Tag(ulong high) => (uint)(high >> 32) | 1;
}
