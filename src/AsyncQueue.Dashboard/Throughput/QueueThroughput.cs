namespace AsyncQueue.Dashboard.Throughput;

/// <summary>
/// One queue's counts in a ring of one-second buckets. A lock, not atomics: a measurement may have to clear the
/// buckets of the seconds nobody recorded in, and the lock is held for a few array writes, never around user code.
/// </summary>
internal sealed class QueueThroughput
{
    private readonly Lock _lock = new();
    private readonly long[] _succeeded = new long[ThroughputRecorder.Seconds];
    private readonly long[] _failed = new long[ThroughputRecorder.Seconds];
    private long _second = long.MinValue;
    private long _totalSucceeded;
    private long _totalFailed;

    public void Add(long second, bool succeeded, long value)
    {
        lock (_lock)
        {
            MoveTo(second);
            var slot = Slot(second);
            if (succeeded)
            {
                _succeeded[slot] += value;
                _totalSucceeded += value;
            }
            else
            {
                _failed[slot] += value;
                _totalFailed += value;
            }
        }
    }

    public ThroughputSnapshot Snapshot(long now)
    {
        lock (_lock)
        {
            MoveTo(now);
            var succeeded = new long[ThroughputRecorder.Seconds];
            var failed = new long[ThroughputRecorder.Seconds];
            for (var i = 0; i < ThroughputRecorder.Seconds; i++)
            {
                var slot = Slot(now - ThroughputRecorder.Seconds + 1 + i);
                succeeded[i] = _succeeded[slot];
                failed[i] = _failed[slot];
            }

            return new ThroughputSnapshot(_totalSucceeded, _totalFailed, succeeded, failed);
        }
    }

    /// <summary>Makes <paramref name="second"/> the newest bucket, emptying the ones it passes over. An older second (a clock step back) lands in its slot as is.</summary>
    private void MoveTo(long second)
    {
        if (second <= _second)
        {
            return;
        }

        var passed = _second == long.MinValue ? ThroughputRecorder.Seconds : Math.Min(second - _second, ThroughputRecorder.Seconds);
        for (var i = 0; i < passed; i++)
        {
            var slot = Slot(second - i);
            _succeeded[slot] = 0;
            _failed[slot] = 0;
        }

        _second = second;
    }

    private static int Slot(long second) => (int)(((second % ThroughputRecorder.Seconds) + ThroughputRecorder.Seconds) % ThroughputRecorder.Seconds);
}
