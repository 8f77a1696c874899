using System.Diagnostics.Metrics;

namespace AsyncQueue.Diagnostics;

/// <summary>The queue's instruments, on the meter named <c>AsyncQueue</c>, created through <see cref="IMeterFactory"/> when DI has one.</summary>
internal sealed class JobQueueMetrics : IDisposable
{
    public const string MeterName = "AsyncQueue";

    private readonly Meter _meter;

    public JobQueueMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        DeadLetterEvictions = _meter.CreateCounter<long>("asyncqueue.dead_letter.evictions", "{job}", "Dead-lettered jobs evicted by the dead-letter queue's retention (age or count).");
        AbandonedHandlers = _meter.CreateCounter<long>("asyncqueue.job.abandoned", "{job}", "Timed-out handlers that ignored their cancellation token and were abandoned by their worker.");
    }

    public Counter<long> DeadLetterEvictions { get; }

    public Counter<long> AbandonedHandlers { get; }

    public void Dispose() => _meter.Dispose();
}
