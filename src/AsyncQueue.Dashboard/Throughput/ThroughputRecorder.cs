using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AsyncQueue.Dashboard.Throughput;

/// <summary>
/// Counts each queue's succeeded jobs and failed attempts per second, for the live chart and the succeeded column, by
/// listening to the queue's own meter (<c>AsyncQueue</c>): the operations API counts what is stored, and a succeeded
/// job is not stored. It sees this process's jobs since it started; with a store shared by several processes, the
/// others' jobs are counted by their own dashboards (docs/dashboard.md says so, and so does the page).
/// </summary>
internal sealed class ThroughputRecorder : IDisposable
{
    /// <summary>How many seconds the chart shows.</summary>
    public const int Seconds = 60;

    private const string MeterName = "AsyncQueue";
    private const string SucceededInstrument = "asyncqueue.job.completed";
    private const string FailedInstrument = "asyncqueue.job.failed_attempts";
    private const string QueueTag = "messaging.destination.name";

    private readonly ConcurrentDictionary<string, QueueThroughput> _queues = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;

    /// <param name="meterFactory">
    /// The app's meter factory: only the meter it created is counted, so two apps in one process (tests) do not count
    /// each other's jobs. <see langword="null"/> when the app has none, and then every meter named AsyncQueue counts.
    /// </param>
    /// <param name="time">The clock that places a measurement in its second.</param>
    public ThroughputRecorder(IMeterFactory? meterFactory, TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && (meterFactory is null || ReferenceEquals(instrument.Meter.Scope, meterFactory))
                && instrument.Name is SucceededInstrument or FailedInstrument)
            {
                listener.EnableMeasurementEvents(instrument, instrument.Name == SucceededInstrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>A queue's totals and its last <see cref="Seconds"/> seconds, oldest first; zeros for a queue not seen yet.</summary>
    public ThroughputSnapshot Snapshot(string queue) =>
        _queues.TryGetValue(queue, out var counts) ? counts.Snapshot(Now()) : new ThroughputSnapshot(0, 0, new long[Seconds], new long[Seconds]);

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == QueueTag && tag.Value is string queue)
            {
                _queues.GetOrAdd(queue, static _ => new QueueThroughput()).Add(Now(), succeeded: state is true, value);
                return;
            }
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();
}
